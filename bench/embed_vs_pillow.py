#!/usr/bin/python3
"""`deft embed` end to end on 1024×768 JPEGs, and its decode path against Pillow's, in one run.

    /usr/bin/python3 bench/embed_vs_pillow.py [--build build] [--work /tmp/deft-bench]
        [--images 64] [--rss-rows 100000]

1. Decode + preprocess per core (one thread): Pillow (open, convert("RGB"), resize 224×224
   BICUBIC, rescale and normalise in numpy — what the HF SigLIP processor does) against
   deft_decode_bench (read, libjpeg decode, Pillow-exact resize, rescale, normalise), with
   shrink-on-load off and on. Shrink-on-load never goes below 2× the target, so at 224 a
   1024×768 JPEG is not shrunk (512×384 < 448) and "on" equals "off" here; the row shows it.
2. `deft embed` on 2 threads with random-weight SigLIP-B/16-224 (from encoder_vs_peers.py's
   work folder) and with the thumbnail encoder: images/s, with the model-load time removed
   (a 1-row run is subtracted), and for SigLIP the share of the 2 cores' time that decoding
   and preprocessing take (per-core decode time × images / (2 × embedding time)).
3. Peak RSS of `deft embed` (thumbnail) over a `--rss-rows` table (the same files repeated),
   and of SigLIP-B/16 over 1 and `--images` rows (the difference is what rows cost).
Prints a table and writes JSON rows to <work>/embed_results.jsonl.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def make_jpegs(folder, count):
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    rng = np.random.default_rng(11)
    for i in range(count):
        path = folder / f"photo{i:04}.jpg"
        files.append(path)
        if path.exists():
            continue
        h, w = 768, 1024
        y, x = np.mgrid[0:h, 0:w] / w
        f = 3 + i % 7
        r = 128 + 100 * np.sin(f * x + 2 * y + i)
        g = 128 + 90 * np.cos(f * y - 3 * x * y)
        b = 128 + 80 * np.sin(9 * np.hypot(x - 0.3 - i / count * 0.4, y - 0.4))
        rgb = np.stack([r, g, b], -1) + rng.normal(0, 8, size=(h, w, 3))
        Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(path, quality=90)
    return files


def pillow_per_core(files, reps=3):
    best = 1e30
    for _ in range(reps):
        start = time.perf_counter()
        for f in files:
            with Image.open(f) as im:
                small = im.convert("RGB").resize((224, 224), Image.BICUBIC)
            x = (np.asarray(small, dtype=np.float32) * (1 / 255) - 0.5) / 0.5
            x = np.ascontiguousarray(x.transpose(2, 0, 1))
        best = min(best, time.perf_counter() - start)
    return len(files) / best


def run_rss(argv):
    """Runs argv; returns (wall seconds, peak RSS in MiB, stderr)."""
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"{' '.join(map(str, argv))} failed:\n{err}")
    return wall, usage.ru_maxrss / 1024, err


def write_table(path, files, rows):
    with open(path, "w") as f:
        f.write("filepath\n")
        for i in range(rows):
            f.write(f"{files[i % len(files)]}\n")


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--build", default=str(ROOT / "build"))
    a.add_argument("--work", default="/tmp/deft-bench")
    a.add_argument("--images", type=int, default=64)
    a.add_argument("--rss-rows", type=int, default=100000)
    a = a.parse_args()
    work = Path(a.work) / "embed"
    work.mkdir(parents=True, exist_ok=True)
    build = Path(a.build)
    deft = build / "deft"
    files = make_jpegs(work / "jpeg1024", a.images)
    siglip = Path(a.work) / "siglip-b16-224"
    if not (siglip / "model.safetensors").exists():
        sys.exit(f"{siglip} is missing: run bench/encoder_vs_peers.py first (it writes it)")
    rows = []

    pillow = pillow_per_core(files)
    rows.append({"what": "decode+preprocess per core", "impl": "pillow", "img_per_s": pillow})
    for shrink in (0, 1):
        out = subprocess.run([build / "bench" / "deft_decode_bench", "--shrink-on-load", str(shrink)]
                             + [str(f) for f in files], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        rows.append({"what": "decode+preprocess per core", "impl": f"deft (shrink_on_load={shrink})",
                     "img_per_s": r["img_per_s"], "vs_pillow": r["img_per_s"] / pillow})
    deft_decode = rows[1]["img_per_s"]

    def embed(model, n, extra=()):
        table = work / f"table_{n}.csv"
        write_table(table, files, n)
        out = work / f"out_{model}_{n}.parquet"
        argv = [deft, "embed", f"input_parquet={table}", f"output_parquet={out}", f"model={model}",
                "threads=2", "reuse=false", "overwrite=true", *extra]
        if model == "SigLIP":
            argv += [f"model_path={siglip}", "batch_size=16"]
        return run_rss(argv)

    for model, n in (("SigLIP", a.images), ("thumbnail", 8 * a.images)):
        t1, rss1, _ = embed(model, 1)
        tn, rssn, _ = embed(model, n)
        seconds = tn - t1
        row = {"what": f"deft embed end to end, {model}, 2 threads", "img_per_s": (n - 1) / seconds,
               "rss_1_row_mib": rss1, f"rss_{n}_rows_mib": rssn}
        if model == "SigLIP":  # the thumbnail's work is decoding (shrunk on load to 1/8)
            row["decode_share"] = (n / deft_decode) / (2 * seconds)
        rows.append(row)

    _, rss, err = embed("thumbnail", a.rss_rows, ("shrink_on_load=true", "--quiet"))
    rows.append({"what": f"deft embed thumbnail, {a.rss_rows} rows", "peak_rss_mib": rss})

    print(f"# machine: {platform.machine()}, {os.cpu_count()} cores; {a.images} JPEGs 1024x768")
    for r in rows:
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}))
    with open(Path(a.work) / "embed_results.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
