#!/usr/bin/python3
"""Tiny CLIP and SigLIP text towers for deft's text-encoder tests, and their reference
features from an independent PyTorch forward pass written here from transformers'
modeling_clip.py (CLIPTextTransformer, CLIPModel.get_text_features) and modeling_siglip.py
(SiglipTextTransformer), in float64.

Each config.json is the published one (tests/data/published/, copied from the hub) with only
the text tower's sizes lowered, field for field otherwise: CLIP from openai/clip-vit-base-patch32
(text_config lists every field), SigLIP from google/siglip-base-patch16-224 (text_config lists
four: the rest are SiglipTextConfig's defaults, 12 layers and 64 positions included, so the
tiny SigLIP keeps 12 layers and 64 positions). Tokenizers come from generate_text_fixtures.py.

    /usr/bin/python3 tests/data/generate_text_towers.py
"""
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clip_bpe_reference  # noqa: E402
import gemma_spm_reference  # noqa: E402
import siglip_spm_reference  # noqa: E402
from generate_tiny_models import write_safetensors  # noqa: E402

OUT = os.path.join(HERE, "text")
TEXTS = ["a photo of a cat", "wet asphalt at night, oblique view", "",
         "a forklift in a warehouse next to a red car", "ΟΔΟΣ café 東京 🚗"]


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def gelu_tanh(x):
    return torch.nn.functional.gelu(x, approximate="tanh")


def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def encoder(h, W, layers, heads, act, eps, causal):
    n, t, d = h.shape
    hd = d // heads
    mask = torch.full((t, t), float("-inf"), dtype=h.dtype).triu(1) if causal else None
    for i in range(layers):
        p = f"text_model.encoder.layers.{i}."
        x = layer_norm(h, W[p + "layer_norm1.weight"], W[p + "layer_norm1.bias"], eps)
        proj = lambda name, v: v @ W[p + f"self_attn.{name}.weight"].T + W[p + f"self_attn.{name}.bias"]
        q = proj("q_proj", x).view(n, t, heads, hd).transpose(1, 2)
        k = proj("k_proj", x).view(n, t, heads, hd).transpose(1, 2)
        v = proj("v_proj", x).view(n, t, heads, hd).transpose(1, 2)
        scores = q @ k.transpose(-1, -2) * hd ** -0.5
        if mask is not None:
            scores = scores + mask
        a = (scores.softmax(-1) @ v).transpose(1, 2).reshape(n, t, d)
        h = h + proj("out_proj", a)
        x = layer_norm(h, W[p + "layer_norm2.weight"], W[p + "layer_norm2.bias"], eps)
        x = act(x @ W[p + "mlp.fc1.weight"].T + W[p + "mlp.fc1.bias"])
        h = h + x @ W[p + "mlp.fc2.weight"].T + W[p + "mlp.fc2.bias"]
    return h


def random_tower(g, vocab, d, m, layers, positions):
    W = {}
    r = lambda *s, scale=0.2: torch.randn(*s, generator=g, dtype=torch.float64) * scale
    W["text_model.embeddings.token_embedding.weight"] = r(vocab, d, scale=0.5)
    W["text_model.embeddings.position_embedding.weight"] = r(positions, d, scale=0.5)
    for i in range(layers):
        p = f"text_model.encoder.layers.{i}."
        for ln in ("layer_norm1", "layer_norm2"):
            W[p + ln + ".weight"] = 1 + r(d, scale=0.1)
            W[p + ln + ".bias"] = r(d, scale=0.1)
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            W[p + f"self_attn.{name}.weight"] = r(d, d, scale=d ** -0.5)
            W[p + f"self_attn.{name}.bias"] = r(d, scale=0.05)
        W[p + "mlp.fc1.weight"] = r(m, d, scale=d ** -0.5)
        W[p + "mlp.fc1.bias"] = r(m, scale=0.05)
        W[p + "mlp.fc2.weight"] = r(d, m, scale=m ** -0.5)
        W[p + "mlp.fc2.bias"] = r(d, scale=0.05)
    W["text_model.final_layer_norm.weight"] = 1 + r(d, scale=0.1)
    W["text_model.final_layer_norm.bias"] = r(d, scale=0.1)
    return W


def clip_tower():
    folder = os.path.join(OUT, "clip_tower")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(HERE, "published", "clip-vit-base-patch32.config.json")) as f:
        config = json.load(f)
    tok = clip_bpe_reference.ClipBpe(os.path.join(OUT, "clip", "vocab.json"),
                                    os.path.join(OUT, "clip", "merges.txt"))
    t = config["text_config"]
    t.update(hidden_size=32, intermediate_size=64, num_attention_heads=4, num_hidden_layers=2,
             vocab_size=len(tok.vocab), projection_dim=16)
    config["projection_dim"] = 16
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(OUT, "clip", name), os.path.join(folder, name))
    g = torch.Generator().manual_seed(11)
    W = random_tower(g, t["vocab_size"], 32, 64, 2, 77)
    W["text_projection.weight"] = torch.randn(16, 32, generator=g, dtype=torch.float64) * 32 ** -0.5
    write_safetensors(os.path.join(folder, "model.safetensors"),
                      {k: v.float() for k, v in W.items()}, "F32")
    ids = torch.tensor([tok.encode(s) for s in TEXTS])
    Wd = {k: v.float().double() for k, v in W.items()}  # the stored values, in double
    h = Wd["text_model.embeddings.token_embedding.weight"][ids] + \
        Wd["text_model.embeddings.position_embedding.weight"][:77]
    h = encoder(h, Wd, 2, 4, quick_gelu, t["layer_norm_eps"], causal=True)
    h = layer_norm(h, Wd["text_model.final_layer_norm.weight"],
                   Wd["text_model.final_layer_norm.bias"], t["layer_norm_eps"])
    # eos_token_id == 2 in the published config: transformers' legacy branch, argmax of the ids.
    pooled = h[torch.arange(len(TEXTS)), ids.argmax(-1)]
    features = pooled @ Wd["text_projection.weight"].T
    return {"texts": TEXTS, "ids": ids.tolist(), "features": features.tolist()}


def siglip_tower(name="siglip", published="siglip-base-patch16-224", seed=12):
    """SigLIP from google/siglip-base-patch16-224 (spiece.model); SigLIP2 from
    google/siglip2-base-patch16-224, whose text_config lists vocab_size only (Gemma's
    tokenizer.model)."""
    folder = os.path.join(OUT, name + "_tower")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(HERE, "published", published + ".config.json")) as f:
        config = json.load(f)
    if name == "siglip":
        tok = siglip_spm_reference.SiglipSpm(os.path.join(OUT, "siglip", "spiece.model"))
        shutil.copy(os.path.join(OUT, "siglip", "spiece.model"), folder)
    else:
        tok = gemma_spm_reference.GemmaSpm(os.path.join(OUT, "gemma", "tokenizer.model"))
        shutil.copy(os.path.join(OUT, "gemma", "tokenizer.model"), folder)
    t = config["text_config"]
    vocab = tok.sp.get_piece_size()
    t.update(hidden_size=32, intermediate_size=64, num_attention_heads=4, vocab_size=vocab)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    layers, positions, eps = 12, 64, 1e-6  # SiglipTextConfig's defaults (absent from the file)
    g = torch.Generator().manual_seed(seed)
    W = random_tower(g, vocab, 32, 64, layers, positions)
    W["text_model.head.weight"] = torch.randn(32, 32, generator=g, dtype=torch.float64) * 32 ** -0.5
    W["text_model.head.bias"] = torch.randn(32, generator=g, dtype=torch.float64) * 0.05
    write_safetensors(os.path.join(folder, "model.safetensors"),
                      {k: v.float() for k, v in W.items()}, "F32")
    ids = torch.tensor([tok.encode(s) for s in TEXTS])
    Wd = {k: v.float().double() for k, v in W.items()}
    h = Wd["text_model.embeddings.token_embedding.weight"][ids] + \
        Wd["text_model.embeddings.position_embedding.weight"][:positions]
    h = encoder(h, Wd, layers, 4, gelu_tanh, eps, causal=False)
    h = layer_norm(h, Wd["text_model.final_layer_norm.weight"],
                   Wd["text_model.final_layer_norm.bias"], eps)
    pooled = h[:, -1, :]
    features = pooled @ Wd["text_model.head.weight"].T + Wd["text_model.head.bias"]
    return {"texts": TEXTS, "ids": ids.tolist(), "features": features.tolist()}


def read_safetensors(path):
    import struct
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32"
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(info["shape"])
    return out


def clip_both_towers():
    """tests/data/tiny/clip's vision tower with the tiny CLIP text tower above, in one
    checkpoint: its config.json is the tiny model's with text_config replaced by the tower's
    (projection_dim 16 for both), for mining images by text."""
    folder = os.path.join(OUT, "clip_both")
    os.makedirs(folder, exist_ok=True)
    tiny = os.path.join(HERE, "tiny", "clip")
    with open(os.path.join(tiny, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(OUT, "clip_tower", "config.json")) as f:
        config["text_config"] = json.load(f)["text_config"]
    assert config["projection_dim"] == 16
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    shutil.copy(os.path.join(tiny, "preprocessor_config.json"), folder)
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(OUT, "clip", name), os.path.join(folder, name))
    weights = {k: v for k, v in read_safetensors(os.path.join(tiny, "model.safetensors")).items()
               if not k.startswith("text_")}
    weights.update(read_safetensors(os.path.join(OUT, "clip_tower", "model.safetensors")))
    write_safetensors(os.path.join(folder, "model.safetensors"), weights, "F32")


def main():
    reference = {"clip": clip_tower(), "siglip": siglip_tower(),
                 "siglip2": siglip_tower("siglip2", "siglip2-base-patch16-224", 13)}
    clip_both_towers()
    with open(os.path.join(OUT, "tower_reference.json"), "w") as f:
        json.dump(reference, f)
    print("text towers written")


if __name__ == "__main__":
    main()
