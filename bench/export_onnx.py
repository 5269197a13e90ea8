#!/usr/bin/python3
"""Exports a benchmark checkpoint to ONNX (opset 17) for the ONNX Runtime peer.

    /usr/bin/python3 bench/export_onnx.py --model DIR --batch 8 --out model-b8.onnx

The graph is torch.onnx's trace of tests/data/generate_tiny_models.py's forward pass (the
PyTorch peer's), with a fixed batch size, fp32.
"""
import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "data"))
import generate_tiny_models as models  # noqa: E402
from torch_peer import full_config, read_safetensors  # noqa: E402


class Encoder(torch.nn.Module):
    def __init__(self, weights, forward, config):
        super().__init__()
        self.names = sorted(weights)
        for i, name in enumerate(self.names):
            self.register_buffer(f"w{i}", weights[name])
        self.forward_fn, self.config = forward, config

    def forward(self, pixels):
        weights = {name: getattr(self, f"w{i}") for i, name in enumerate(self.names)}
        return self.forward_fn(pixels, weights, self.config)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    family, full = full_config(json.loads((Path(a.model) / "config.json").read_text()))
    forward = models.siglip_forward if family == "siglip" else models.clip_forward
    module = Encoder(read_safetensors(Path(a.model) / "model.safetensors"), forward, full).eval()
    size = full["image_size"]
    example = torch.zeros(a.batch, 3, size, size)
    with torch.no_grad():
        torch.onnx.export(module, (example,), a.out, opset_version=17, input_names=["pixels"],
                          output_names=["embedding"], do_constant_folding=True)


if __name__ == "__main__":
    main()
