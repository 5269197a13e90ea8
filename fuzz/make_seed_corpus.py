#!/usr/bin/python3
"""Writes the fuzzers' seed corpora (fuzz/corpus/<fuzzer>/) from the test data and from
independent writers: Debian's torch for pytorch_model.bin, Python's json/struct for
safetensors, hand-written COCO/KITTI/YAML. The corpora are committed; rerun this only to
change them (tables: see fuzz/corpus/table/README, written by DuckDB's own COPY).

    /usr/bin/python3 fuzz/make_seed_corpus.py
"""
import io
import json
import pathlib
import struct
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CORPUS = ROOT / "fuzz" / "corpus"


def put(fuzzer, name, data):
    folder = CORPUS / fuzzer
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    """The format's own layout: u64 header length, JSON header, data buffer."""
    header, buffer = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(buffer), len(buffer) + len(raw)]}
        buffer += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + buffer


def seed_safetensors():
    f32 = struct.pack("<6f", 1, -2, 3.5, 0, 1e-3, 7)
    put("safetensors", "f32.safetensors",
        safetensors({"w": ("F32", [2, 3], f32)}, {"format": "pt"}))
    put("safetensors", "mixed.safetensors", safetensors({
        "a": ("F16", [3], struct.pack("<3H", 0x3C00, 0xC000, 0x7BFF)),
        "b": ("BF16", [2, 1], struct.pack("<2H", 0x3F80, 0xFF80)),
        "c": ("F32", [], struct.pack("<f", 2.0)),
        "d": ("I64", [1], struct.pack("<q", 5))}))
    put("safetensors", "empty_tensor.safetensors", safetensors({"e": ("F32", [0, 4], b"")}))


def seed_torch():
    import torch
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    cases = {
        "plain.bin": {"w": base, "b": torch.ones(4)},
        "half.bin": {"h": base.half(), "g": base.bfloat16()[1]},
        "strided.bin": {"t": base.t(), "s": base[:, 1]},  # views into one storage
    }
    for name, state in cases.items():
        buffer = io.BytesIO()
        torch.save(state, buffer)
        put("torch_file", name, buffer.getvalue())
        with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
            pkl = next(n for n in z.namelist() if n.endswith("data.pkl"))
            put("pickle", name.replace(".bin", ".pkl"), z.read(pkl))


def seed_model_config():
    published = DATA / "published"
    for config in sorted(published.glob("*.config.json")):
        stem = config.name[: -len(".config.json")]
        processor = published / f"{stem}.preprocessor_config.json"
        data = config.read_bytes()
        if processor.exists():
            data += b"\0" + processor.read_bytes()
        put("model_config", stem, data)
    for folder in sorted((DATA / "tiny").iterdir()):
        config = folder / "config.json"
        if config.exists():
            data = config.read_bytes()
            processor = folder / "preprocessor_config.json"
            if processor.exists():
                data += b"\0" + processor.read_bytes()
            put("model_config", "tiny_" + folder.name, data)


def seed_spec():
    put("spec", "unique_neighbor_matching.yaml",
        (DATA / "published" / "unique_neighbor_matching.yaml").read_bytes())
    # The reference's spec shapes (tao-compat.md): embedding and nearest_neighbors.
    put("spec", "embedding.yaml",
        "model: siglip\nmodel_path: google/siglip-base-patch16-224\nbatch_size: 32\n"
        "num_workers: 4\ninput_parquet: targets.parquet\noutput_parquet: out.parquet\n")
    put("spec", "mining.yaml",
        "source_parquet: pool.parquet\ntarget_parquet: t.parquet\noutput_parquet: m.parquet\n"
        "topn: 5\nmetric: cosine\ndedup: true\n\0topn=3\n++threads=2\nmetric=manhattan\n")
    put("spec", "nested.yaml",
        "embedding:\n  batch_size: 8\n  model: clip\nmining:\n  topn: 2\noutput_dir: ~\n"
        "\0mining.topn=4\nembedding.precision=bf16\n")


def seed_images():
    for image in sorted((DATA / "images").iterdir()):
        if image.suffix in {".ppm", ".txt"} or image.stat().st_size > 8192:
            continue
        put("image", image.name, image.read_bytes())


def seed_detections():
    coco = {
        "images": [{"id": 1, "file_name": "imgs/0001.jpg", "width": 640, "height": 480},
                   {"id": 2, "filepath": "b/a.jpg"}, {"id": 3, "file_path": "c/a.jpg"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 20, 30, 40]},
                        {"id": 2, "image_id": 2, "category_id": 8, "bbox": [0, 0, 1.5, 2]},
                        {"id": 3, "image_id": 9, "category_id": 7, "bbox": [1, 1, 1, 1]}],
        "categories": [{"id": 7, "name": "scratch"}, {"id": 8, "name": "dent"}],
    }
    put("coco", "small.json", json.dumps(coco, indent=1))
    put("coco", "empty.json", '{"images": [], "annotations": [], "categories": []}')
    # KITTI object labels: class truncated occluded alpha x1 y1 x2 y2 h w l x y z ry
    put("kitti", "car.txt",
        "Car 0.00 0 -1.58 587.01 173.33 614.12 200.12 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59\n"
        "DontCare -1 -1 -10 503.89 169.71 590.61 190.13 -1 -1 -1 -1000 -1000 -1000 -10\n")
    put("kitti", "short.txt", "Pedestrian 0 0 0 1 2 3 4\n\nCyclist 0.5 1 0.2 10 10 20 30\n")


def seed_text():
    for family in ("clip", "siglip", "gemma"):
        cases = json.loads((DATA / "text" / f"{family}_token_cases.json").read_text())
        items = cases if isinstance(cases, list) else cases.get("cases", [])
        for i, case in enumerate(items[::12]):
            text = case["text"] if isinstance(case, dict) else case[0]
            put("tokenizer", f"{family}_{i:03d}", text)
    clip = DATA / "text" / "clip"
    put("bpe_files", "clip", (clip / "vocab.json").read_bytes() + b"\0" +
        (clip / "merges.txt").read_bytes())


if __name__ == "__main__":
    seed_safetensors()
    seed_torch()
    seed_model_config()
    seed_spec()
    seed_images()
    seed_detections()
    seed_text()
