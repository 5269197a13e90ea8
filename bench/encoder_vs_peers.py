#!/usr/bin/python3
"""deft's encoder against its peers, in one run, on the same random-weight checkpoints and
inputs: SigLIP-B/16-224 and CLIP-B/32-224, batch 1 and 8, 2 threads.

    /usr/bin/python3 bench/encoder_vs_peers.py [--build build] [--work /tmp/deft-bench]
        [--reps 5] [--threads 2] [--models siglip,clip] [--batches 1,8]

Peers: PyTorch (Debian's torch; eager and jit-traced; fp32 and bf16) and ONNX Runtime 1.30
(fp32; the CPU library of npm's onnxruntime-node, installed into <work>/ort with
--ignore-scripts, running the torch.onnx export of the same model). Also measures this
machine's oneDNN matmul peak per dtype and prints the fraction of it each encoder reaches.

Thread policy: each implementation runs as it runs best. deft runs as users run it, with
OMP_WAIT_POLICY unset (libgomp spins briefly between kernels). PyTorch runs both with
OMP_WAIT_POLICY=PASSIVE and unset, and its faster run is kept (PASSIVE is far faster for its
fp32 path here; unset is sometimes faster for bf16). ONNX Runtime uses its own thread pool.
The policy of each row is printed. Prints a table and writes JSON rows to <work>/results.jsonl.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "data"))
import generate_tiny_models as models  # noqa: E402

FULL = {
    "siglip": ("siglip-b16-224", models.tiny_siglip,
               dict(d=768, m=3072, layers=12, heads=12, image=224, patch=16), "SigLIP"),
    "clip": ("clip-b32-224", models.tiny_clip,
             dict(d=768, m=3072, layers=12, heads=12, image=224, patch=32, proj=512), "CLIP"),
}


ORT_PACKAGE = "onnxruntime-node@1.30.0"


def ensure_onnxruntime(work):
    modules = work / "ort" / "node_modules"
    if not (modules / "onnxruntime-node").exists():
        (work / "ort").mkdir(parents=True, exist_ok=True)
        # --ignore-scripts: its install script fetches GPU parts, which fails offline.
        subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund",
                        ORT_PACKAGE], cwd=work / "ort", check=True, capture_output=True)
    return modules


def run_json(cmd, env):
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    for r in rows:
        r["omp_wait_policy"] = env.get("OMP_WAIT_POLICY", "unset")
    return rows


def best_of_policies(cmd, env):
    """Runs under OMP_WAIT_POLICY=PASSIVE and unset; returns the faster run's rows."""
    passive = run_json(cmd, dict(env, OMP_WAIT_POLICY="PASSIVE"))
    unset = run_json(cmd, env)
    return max((passive, unset), key=lambda rows: rows[0]["img_per_s"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--work", default="/tmp/deft-bench")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default="siglip,clip")
    ap.add_argument("--batches", default="1,8")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["OMP_NUM_THREADS"] = str(a.threads)
    bench = str(Path(a.build) / "bench" / "deft_encoder_bench")
    batches = [int(b) for b in a.batches.split(",")]

    rows = run_json([bench, "--matmul-peak", "--threads", str(a.threads)], env)
    peak = {r["precision"]: r["gflops"] for r in rows}
    inputs = work / "pixels-224.f32"
    if not inputs.exists():
        rng = np.random.default_rng(7)
        rng.standard_normal((max(batches), 3, 224, 224), dtype=np.float32).tofile(inputs)

    for key in a.models.split(","):
        folder, builder, sizes, family = FULL[key]
        path = work / folder
        if not (path / "model.safetensors").exists():
            models.WEIGHT_SCALE[0] = 0.02
            models.write_checkpoint(path, builder, "F32", 1, **sizes)
        for batch in batches:
            common = ["--model", str(path), "--batch", str(batch), "--input", str(inputs),
                      "--reps", str(a.reps), "--threads", str(a.threads)]
            for precision in ("fp32", "bf16"):
                rows += run_json([bench, "--family", family, "--precision", precision] + common, env)
                for mode in ("eager", "jit"):
                    rows += best_of_policies([sys.executable, str(ROOT / "bench" / "torch_peer.py"),
                                              "--mode", mode, "--precision", precision] + common, env)
                if precision == "fp32":
                    onnx = work / f"{folder}-b{batch}.onnx"
                    if not onnx.exists():
                        subprocess.run([sys.executable, str(ROOT / "bench" / "export_onnx.py"),
                                        "--model", str(path), "--batch", str(batch),
                                        "--out", str(onnx)], check=True, capture_output=True)
                    ort_env = dict(env, NODE_PATH=str(ensure_onnxruntime(work)))
                    for r in run_json(["node", str(ROOT / "bench" / "ort_peer.js"), str(onnx),
                                       str(batch), str(inputs), str(a.threads), str(a.reps)], ort_env):
                        r["family"] = family
                        rows.append(r)

    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    print(f"# machine: {machine}; threads {a.threads}; torch {torch.__version__}; reps {a.reps}")
    print(f"# oneDNN matmul peak: fp32 {peak.get('fp32')} GFLOP/s, bf16 {peak.get('bf16')} GFLOP/s")
    header = (f"{'model':8} {'batch':>5} {'precision':9} {'impl':16} {'img/s':>8} {'spread':>14} "
              f"{'of peak':>8} {'deft ×':>7}  OMP_WAIT_POLICY")
    print(header)
    gflop = {(r["family"].lower(), r["batch"]): r["gflop_per_image"] for r in rows if r.get("impl") == "deft"}
    for key in a.models.split(","):
        family = FULL[key][3].lower()
        for batch in batches:
            for precision in ("fp32", "bf16"):
                group = [r for r in rows if r.get("family", "").lower() == family and
                         r.get("batch") == batch and r.get("precision") == precision]
                deft = next(r for r in group if r["impl"] == "deft")
                for r in group:
                    name = {"deft": "deft", "onnxruntime": "onnxruntime"}.get(
                        r["impl"], f"pytorch-{r['mode']}")
                    fraction = r["img_per_s"] * gflop[(family, batch)] / peak[precision]
                    spread = f"{batch / r['high_s']:.2f}-{batch / r['low_s']:.2f}"
                    print(f"{family:8} {batch:>5} {precision:9} {name:16} {r['img_per_s']:>8.2f} "
                          f"{spread:>14} {fraction:>8.0%} {deft['img_per_s'] / r['img_per_s']:>7.2f}  "
                          f"{r['omp_wait_policy']}")
    with open(work / "results.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
