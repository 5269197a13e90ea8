#!/usr/bin/python3
"""PyTorch peer for bench/encoder_vs_peers.py: the same checkpoint and input file as deft.

    /usr/bin/python3 bench/torch_peer.py --model DIR --batch 8 --input x.f32 \\
        --mode eager|jit --precision fp32|bf16 [--threads 2] [--reps 5]

The forward pass is tests/data/generate_tiny_models.py's (an independent implementation of the
Hugging Face SigLIP/CLIP vision towers in torch ops). Prints one JSON line.
"""
import argparse
import json
import statistics
import struct
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "data"))
import generate_tiny_models as models  # noqa: E402


def read_safetensors(path):
    data = Path(path).read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        raw = data[base + begin:base + end]
        if t["dtype"] == "F32":
            a = torch.from_numpy(np.frombuffer(raw, dtype=np.float32).copy())
        elif t["dtype"] == "F16":
            a = torch.from_numpy(np.frombuffer(raw, dtype=np.float16).astype(np.float32))
        else:
            a = torch.from_numpy(np.frombuffer(raw, dtype=np.int16).copy()).view(torch.bfloat16).float()
        out[name] = a.reshape(t["shape"])
    return out


def full_config(cfg):
    family = cfg["model_type"]
    v = dict(cfg.get("vision_config", cfg))
    defaults = {"siglip": ("gelu_pytorch_tanh", 1e-6), "clip": ("quick_gelu", 1e-5)}[family]
    v.setdefault("hidden_act", defaults[0])
    v.setdefault("layer_norm_eps", defaults[1])
    return family, v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--mode", choices=["eager", "jit"], default="eager")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    cfg = json.loads((Path(a.model) / "config.json").read_text())
    family, full = full_config(cfg)
    forward = models.siglip_forward if family == "siglip" else models.clip_forward
    dtype = torch.float32 if a.precision == "fp32" else torch.bfloat16
    weights = {k: v.to(dtype) for k, v in read_safetensors(Path(a.model) / "model.safetensors").items()}
    size = full["image_size"]
    pixels = np.fromfile(a.input, dtype=np.float32, count=a.batch * 3 * size * size)
    x = torch.from_numpy(pixels.copy()).reshape(a.batch, 3, size, size).to(dtype)

    run = lambda inp: forward(inp, weights, full)  # noqa: E731
    with torch.no_grad():
        if a.mode == "jit":
            run = torch.jit.trace(run, (x,), check_trace=False)
        out = run(x)  # warm-up
        times = []
        for _ in range(a.reps):
            start = time.perf_counter()
            out = run(x)
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(json.dumps({"impl": "pytorch", "mode": a.mode, "precision": a.precision, "family": family,
                      "batch": a.batch, "threads": a.threads, "median_s": round(median, 4),
                      "low_s": round(min(times), 4), "high_s": round(max(times), 4),
                      "img_per_s": round(a.batch / median, 3), "torch": torch.__version__,
                      "checksum": float(out.float().sum())}))


if __name__ == "__main__":
    main()
