#!/usr/bin/python3
"""Writes the tiny encoder fixtures that deft's parity tests compare against.

Run with Debian's Python stack (torch 1.13, numpy, Pillow):
    /usr/bin/python3 tests/data/generate_tiny_models.py tests/data/tiny

It writes, under the output folder:
  images/NAME.ppm            deterministic test images (P6, RGB) of awkward sizes
  resize/NAME_WxH.ppm        Pillow's BICUBIC resize of those images (byte-exact reference)
  MODEL/config.json, preprocessor_config.json, model.safetensors
                             tiny random checkpoints in Hugging Face layout (F32, and
                             F16/BF16 variants), for SigLIP, CLIP and DINOv2
  files/photo_*.jpg          photo-like JPEGs (for `deft embed` on real files, shrink-on-load)
  reference.json             for each model and image: the embedding computed here (and, as
                             file_embeddings, for each JPEG as Pillow decodes it)

The forward passes below are an independent PyTorch implementation of the Hugging Face
transformers models (see ../shared/specs/encoders.md); deft's C++ is tested against them.
The preprocessing uses Pillow itself, then HF's rescale/normalise arithmetic.
"""

import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

SEED = 20261124


# ----------------------------------------------------------------------------- safetensors
def write_safetensors(path, tensors, dtype):
    """tensors: name -> float32 torch tensor; dtype: 'F32', 'F16' or 'BF16' for the weights."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if dtype == "F32":
            data = t.to(torch.float32).numpy().tobytes()
        elif dtype == "F16":
            data = t.to(torch.float16).numpy().tobytes()
        else:  # BF16: numpy has no bfloat16, so take the raw 16-bit words
            data = t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt", "generator": "deft tests/data/generate_tiny_models.py"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # padded, as the format allows
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def stored(t, dtype):
    """The value a weight has after a round trip through the checkpoint's dtype."""
    if dtype == "F16":
        return t.to(torch.float16).to(torch.float32)
    if dtype == "BF16":
        return t.to(torch.bfloat16).to(torch.float32)
    return t


# ----------------------------------------------------------------------------- images
def make_images():
    """Deterministic RGB images: gradients, stripes and noise, of awkward sizes."""
    rng = np.random.default_rng(SEED)
    sizes = {"wide_40x24": (40, 24), "tall_17x31": (17, 31), "square_32x32": (32, 32),
             "big_300x200": (300, 200), "tiny_5x7": (5, 7)}
    images = {}
    for name, (w, h) in sizes.items():
        y, x = np.mgrid[0:h, 0:w]
        r = (x * 255 // max(w - 1, 1)).astype(np.uint8)
        g = (((x // 3 + y // 2) % 2) * 200 + 20).astype(np.uint8)
        b = rng.integers(0, 256, size=(h, w), dtype=np.uint8)
        images[name] = Image.fromarray(np.stack([r, g, b], axis=-1), "RGB")
    return images


def make_photos():
    """Photo-like JPEG subjects (smooth shapes, mild noise) large enough for shrink-on-load."""
    rng = np.random.default_rng(SEED + 1)
    photos = {}
    for name, (w, h) in {"photo_640x480.jpg": (640, 480), "photo_1024x768.jpg": (1024, 768),
                         "photo_500x900.jpg": (500, 900)}.items():
        y, x = np.mgrid[0:h, 0:w] / max(w, h)
        r = 128 + 100 * np.sin(6 * x + 2 * y)
        g = 128 + 90 * np.cos(5 * y - 3 * x * y)
        b = 128 + 80 * np.sin(9 * np.hypot(x - 0.4, y - 0.5))
        rgb = np.stack([r, g, b], axis=-1) + rng.normal(0, 6, size=(h, w, 3))
        photos[name] = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    return photos


RESIZE_SIZES = [(1, 1), (1, 9), (9, 1), (2, 3), (7, 5), (8, 8), (13, 11), (16, 16), (24, 40),
                (31, 17), (32, 32), (33, 47), (48, 48), (64, 20), (80, 80), (99, 3), (120, 90),
                (150, 100), (224, 224), (256, 301), (3, 250), (298, 224)]


def pillow_resize(image, w, h):
    return image.resize((w, h), Image.BICUBIC)


# ----------------------------------------------------------------------------- preprocessing
def resize_shortest_edge(image, size):
    w, h = image.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(size * long / short)
    return pillow_resize(image, size, new_long) if w <= h else pillow_resize(image, new_long, size)


def center_crop(array, size, size_w=None):
    """HF image_transforms.center_crop on an HWC uint8 array (zero-pads first if smaller)."""
    size_h, size_w = size, size if size_w is None else size_w
    h, w = array.shape[:2]
    if h < size_h or w < size_w:
        ph, pw = max(size_h, h), max(size_w, w)
        padded = np.zeros((ph, pw, 3), dtype=array.dtype)
        top, left = (ph - h) // 2, (pw - w) // 2
        padded[top:top + h, left:left + w] = array
        array, h, w = padded, ph, pw
    top, left = (h - size_h) // 2, (w - size_w) // 2
    return array[top:top + size_h, left:left + size_w]


def normalise(array, mean, std):
    x = array.astype(np.float64) * (1 / 255)  # HF rescale, then cast to float32
    x = x.astype(np.float32)
    x = (x - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return torch.from_numpy(x.transpose(2, 0, 1).copy())  # CHW


def preprocess(image, family, pre):
    if family == "siglip":
        s = pre["size"]
        array = np.asarray(pillow_resize(image, s["width"], s["height"]))
    else:
        array = np.asarray(resize_shortest_edge(image, pre["size"]["shortest_edge"]))
        array = center_crop(array, pre["crop_size"]["height"], pre["crop_size"]["width"])
    return normalise(array, pre["image_mean"], pre["image_std"])


# ----------------------------------------------------------------------------- model maths
def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def linear(x, w, b=None):
    return x @ w.t() + (b if b is not None else 0)


ACT = {
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
    "gelu": lambda x: F.gelu(x),
}


def attention(q_in, kv_in, wq, bq, wk, bk, wv, bv, wo, bo, heads):
    n, tq, d = q_in.shape
    tk = kv_in.shape[1]
    hd = d // heads
    q = linear(q_in, wq, bq).view(n, tq, heads, hd).transpose(1, 2)
    k = linear(kv_in, wk, bk).view(n, tk, heads, hd).transpose(1, 2)
    v = linear(kv_in, wv, bv).view(n, tk, heads, hd).transpose(1, 2)
    a = torch.softmax(q @ k.transpose(-1, -2) * hd ** -0.5, dim=-1) @ v
    return linear(a.transpose(1, 2).reshape(n, tq, d), wo, bo)


def patchify(pixels, w, b, patch):
    return F.conv2d(pixels, w, b, stride=patch).flatten(2).transpose(1, 2)


def bicubic_positions(pos, grid, new_h, new_w):
    """pos: [grid*grid, D] -> [new_h*new_w, D], PyTorch bicubic, align_corners=False."""
    d = pos.shape[-1]
    p = pos.reshape(1, grid, grid, d).permute(0, 3, 1, 2)
    p = F.interpolate(p, size=(new_h, new_w), mode="bicubic", align_corners=False)
    return p.permute(0, 2, 3, 1).reshape(new_h * new_w, d)


def clip_siglip_layers(h, W, prefix, cfg, act):
    eps = cfg["layer_norm_eps"]
    for i in range(cfg["num_hidden_layers"]):
        p = f"{prefix}encoder.layers.{i}."
        x = layer_norm(h, W[p + "layer_norm1.weight"], W[p + "layer_norm1.bias"], eps)
        h = h + attention(x, x, *(W[p + f"self_attn.{n}_proj.{k}"] for n in "qkvo"[:3] for k in ("weight", "bias")),
                          W[p + "self_attn.out_proj.weight"], W[p + "self_attn.out_proj.bias"],
                          cfg["num_attention_heads"])
        x = layer_norm(h, W[p + "layer_norm2.weight"], W[p + "layer_norm2.bias"], eps)
        h = h + linear(ACT[act](linear(x, W[p + "mlp.fc1.weight"], W[p + "mlp.fc1.bias"])),
                       W[p + "mlp.fc2.weight"], W[p + "mlp.fc2.bias"])
    return h


def siglip_forward(pixels, W, cfg):
    v = "vision_model."
    eps = cfg["layer_norm_eps"]
    h = patchify(pixels, W[v + "embeddings.patch_embedding.weight"],
                 W[v + "embeddings.patch_embedding.bias"], cfg["patch_size"])
    pos = W[v + "embeddings.position_embedding.weight"]
    gh, gw = pixels.shape[2] // cfg["patch_size"], pixels.shape[3] // cfg["patch_size"]
    if gh * gw != pos.shape[0]:  # HF's interpolate_pos_encoding
        pos = bicubic_positions(pos, int(math.isqrt(pos.shape[0])), gh, gw)
    h = h + pos
    h = clip_siglip_layers(h, W, v, cfg, cfg["hidden_act"])
    h = layer_norm(h, W[v + "post_layernorm.weight"], W[v + "post_layernorm.bias"], eps)
    d = h.shape[-1]
    probe = W[v + "head.probe"].expand(h.shape[0], 1, d)
    wi, bi = W[v + "head.attention.in_proj_weight"], W[v + "head.attention.in_proj_bias"]
    a = attention(probe, h, wi[:d], bi[:d], wi[d:2 * d], bi[d:2 * d], wi[2 * d:], bi[2 * d:],
                  W[v + "head.attention.out_proj.weight"], W[v + "head.attention.out_proj.bias"],
                  cfg["num_attention_heads"])
    x = layer_norm(a, W[v + "head.layernorm.weight"], W[v + "head.layernorm.bias"], eps)
    y = a + linear(ACT[cfg["hidden_act"]](linear(x, W[v + "head.mlp.fc1.weight"], W[v + "head.mlp.fc1.bias"])),
                   W[v + "head.mlp.fc2.weight"], W[v + "head.mlp.fc2.bias"])
    return y[:, 0]


def clip_forward(pixels, W, cfg):
    v = "vision_model."
    eps = cfg["layer_norm_eps"]
    h = patchify(pixels, W[v + "embeddings.patch_embedding.weight"], None, cfg["patch_size"])
    cls = W[v + "embeddings.class_embedding"].expand(h.shape[0], 1, -1)
    pos = W[v + "embeddings.position_embedding.weight"]
    gh, gw = pixels.shape[2] // cfg["patch_size"], pixels.shape[3] // cfg["patch_size"]
    if gh * gw + 1 != pos.shape[0]:  # HF's interpolate_pos_encoding
        pos = torch.cat([pos[:1], bicubic_positions(pos[1:], int(math.isqrt(pos.shape[0] - 1)), gh, gw)])
    h = torch.cat([cls, h], dim=1) + pos
    h = layer_norm(h, W[v + "pre_layrnorm.weight"], W[v + "pre_layrnorm.bias"], eps)
    h = clip_siglip_layers(h, W, v, cfg, cfg["hidden_act"])
    pooled = layer_norm(h[:, 0], W[v + "post_layernorm.weight"], W[v + "post_layernorm.bias"], eps)
    # CLIPVisionModel alone has no projection: its pooled output is the embedding.
    return linear(pooled, W["visual_projection.weight"]) if "visual_projection.weight" in W else pooled


def dinov2_forward(pixels, W, cfg):
    eps = cfg["layer_norm_eps"]
    patch = cfg["patch_size"]
    h = patchify(pixels, W["embeddings.patch_embeddings.projection.weight"],
                 W["embeddings.patch_embeddings.projection.bias"], patch)
    pos = W["embeddings.position_embeddings"][0]
    grid = int(math.isqrt(pos.shape[0] - 1))
    gh, gw = pixels.shape[2] // patch, pixels.shape[3] // patch
    patch_pos = bicubic_positions(pos[1:], grid, gh, gw)
    cls = W["embeddings.cls_token"].expand(h.shape[0], 1, -1)
    h = torch.cat([cls, h], dim=1) + torch.cat([pos[:1], patch_pos], dim=0)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        x = layer_norm(h, W[p + "norm1.weight"], W[p + "norm1.bias"], eps)
        a = attention(x, x, W[p + "attention.attention.query.weight"], W[p + "attention.attention.query.bias"],
                      W[p + "attention.attention.key.weight"], W[p + "attention.attention.key.bias"],
                      W[p + "attention.attention.value.weight"], W[p + "attention.attention.value.bias"],
                      W[p + "attention.output.dense.weight"], W[p + "attention.output.dense.bias"],
                      cfg["num_attention_heads"])
        h = h + W[p + "layer_scale1.lambda1"] * a
        x = layer_norm(h, W[p + "norm2.weight"], W[p + "norm2.bias"], eps)
        m = linear(ACT["gelu"](linear(x, W[p + "mlp.fc1.weight"], W[p + "mlp.fc1.bias"])),
                   W[p + "mlp.fc2.weight"], W[p + "mlp.fc2.bias"])
        h = h + W[p + "layer_scale2.lambda1"] * m
    h = layer_norm(h, W["layernorm.weight"], W["layernorm.bias"], eps)
    return h[:, 0]


# ----------------------------------------------------------------------------- tiny models
WEIGHT_SCALE = [0.2]  # tiny fixtures; full-size benchmark models use 0.02 (HF's init std)


def rand(g, *shape, scale=None):
    return torch.randn(*shape, generator=g) * (WEIGHT_SCALE[0] if scale is None else scale)


def norm_pair(g, prefix, d):
    return {prefix + ".weight": 1 + rand(g, d, scale=0.1), prefix + ".bias": rand(g, d, scale=0.1)}


def clip_siglip_layer_weights(g, prefix, d, m, layers):
    W = {}
    for i in range(layers):
        p = f"{prefix}encoder.layers.{i}."
        W.update(norm_pair(g, p + "layer_norm1", d))
        W.update(norm_pair(g, p + "layer_norm2", d))
        for n in ("q", "k", "v", "out"):
            W[p + f"self_attn.{n}_proj.weight"] = rand(g, d, d)
            W[p + f"self_attn.{n}_proj.bias"] = rand(g, d, scale=0.1)
        W[p + "mlp.fc1.weight"], W[p + "mlp.fc1.bias"] = rand(g, m, d), rand(g, m, scale=0.1)
        W[p + "mlp.fc2.weight"], W[p + "mlp.fc2.bias"] = rand(g, d, m), rand(g, d, scale=0.1)
    return W


def tiny_siglip(g, d=32, m=64, layers=2, heads=2, image=32, patch=8):
    cfg = {"model_type": "siglip",
           "text_config": {"hidden_size": 16},
           "vision_config": {"hidden_size": d, "intermediate_size": m, "num_hidden_layers": layers,
                             "num_attention_heads": heads, "image_size": image, "patch_size": patch}}
    full = dict(cfg["vision_config"], hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6)
    v = "vision_model."
    W = {v + "embeddings.patch_embedding.weight": rand(g, d, 3, patch, patch),
         v + "embeddings.patch_embedding.bias": rand(g, d, scale=0.1),
         v + "embeddings.position_embedding.weight": rand(g, (image // patch) ** 2, d),
         v + "head.probe": rand(g, 1, 1, d, scale=1.0),
         v + "head.attention.in_proj_weight": rand(g, 3 * d, d),
         v + "head.attention.in_proj_bias": rand(g, 3 * d, scale=0.1),
         v + "head.attention.out_proj.weight": rand(g, d, d),
         v + "head.attention.out_proj.bias": rand(g, d, scale=0.1),
         v + "head.mlp.fc1.weight": rand(g, m, d), v + "head.mlp.fc1.bias": rand(g, m, scale=0.1),
         v + "head.mlp.fc2.weight": rand(g, d, m), v + "head.mlp.fc2.bias": rand(g, d, scale=0.1),
         "logit_scale": torch.tensor([2.0]), "logit_bias": torch.tensor([-1.0]),
         "text_model.embeddings.token_embedding.weight": rand(g, 8, 16)}
    W.update(norm_pair(g, v + "post_layernorm", d))
    W.update(norm_pair(g, v + "head.layernorm", d))
    W.update(clip_siglip_layer_weights(g, v, d, m, layers))
    pre = {"image_processor_type": "SiglipImageProcessor", "do_resize": True, "resample": 3,
           "size": {"height": image, "width": image}, "do_rescale": True,
           "rescale_factor": 1 / 255, "do_normalize": True,
           "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}
    return cfg, pre, W, full, siglip_forward


def tiny_clip(g, d=32, m=64, layers=2, heads=2, image=32, patch=8, proj=16):
    cfg = {"model_type": "clip", "projection_dim": proj,
           "text_config": {"hidden_size": 16},
           "vision_config": {"hidden_size": d, "intermediate_size": m, "num_hidden_layers": layers,
                             "num_attention_heads": heads, "image_size": image, "patch_size": patch}}
    full = dict(cfg["vision_config"], hidden_act="quick_gelu", layer_norm_eps=1e-5)
    v = "vision_model."
    W = {v + "embeddings.class_embedding": rand(g, d, scale=1.0),
         v + "embeddings.patch_embedding.weight": rand(g, d, 3, patch, patch),
         v + "embeddings.position_embedding.weight": rand(g, (image // patch) ** 2 + 1, d),
         "visual_projection.weight": rand(g, proj, d),
         "text_projection.weight": rand(g, proj, 16), "logit_scale": torch.tensor(2.6592)}
    W.update(norm_pair(g, v + "pre_layrnorm", d))
    W.update(norm_pair(g, v + "post_layernorm", d))
    W.update(clip_siglip_layer_weights(g, v, d, m, layers))
    pre = {"image_processor_type": "CLIPImageProcessor", "do_resize": True, "resample": 3,
           "size": {"shortest_edge": image}, "do_center_crop": True,
           "crop_size": {"height": image, "width": image}, "do_rescale": True,
           "rescale_factor": 1 / 255, "do_normalize": True, "do_convert_rgb": True,
           "image_mean": [0.48145466, 0.4578275, 0.40821073],
           "image_std": [0.26862954, 0.26130258, 0.27577711]}
    return cfg, pre, W, full, clip_forward


def tiny_dinov2(g):
    # Hub DINOv2 checkpoints say image_size 518 and are run at 224: positions are always
    # interpolated. Tiny: image_size 70 (5×5 grid) run at crop 42 (3×3 grid), patch 14.
    d, m, layers, heads, image, patch, crop = 32, 64, 2, 2, 70, 14, 42
    # As hub DINOv2 configs: no intermediate_size; the MLP width is hidden × mlp_ratio (32 × 2).
    cfg = {"model_type": "dinov2", "hidden_size": d,
           "num_hidden_layers": layers, "num_attention_heads": heads, "image_size": image,
           "patch_size": patch, "hidden_act": "gelu", "layer_norm_eps": 1e-6, "mlp_ratio": 2,
           "qkv_bias": True, "layerscale_value": 1.0, "use_swiglu_ffn": False}
    full = dict(cfg)
    grid = image // patch
    W = {"embeddings.cls_token": rand(g, 1, 1, d, scale=1.0),
         "embeddings.mask_token": torch.zeros(1, d),
         "embeddings.position_embeddings": rand(g, 1, grid * grid + 1, d, scale=0.5),
         "embeddings.patch_embeddings.projection.weight": rand(g, d, 3, patch, patch),
         "embeddings.patch_embeddings.projection.bias": rand(g, d, scale=0.1)}
    W.update(norm_pair(g, "layernorm", d))
    for i in range(layers):
        p = f"encoder.layer.{i}."
        W.update(norm_pair(g, p + "norm1", d))
        W.update(norm_pair(g, p + "norm2", d))
        for n in ("query", "key", "value"):
            W[p + f"attention.attention.{n}.weight"] = rand(g, d, d)
            W[p + f"attention.attention.{n}.bias"] = rand(g, d, scale=0.1)
        W[p + "attention.output.dense.weight"] = rand(g, d, d)
        W[p + "attention.output.dense.bias"] = rand(g, d, scale=0.1)
        W[p + "layer_scale1.lambda1"] = 1 + rand(g, d, scale=0.3)
        W[p + "layer_scale2.lambda1"] = 1 + rand(g, d, scale=0.3)
        W[p + "mlp.fc1.weight"], W[p + "mlp.fc1.bias"] = rand(g, m, d), rand(g, m, scale=0.1)
        W[p + "mlp.fc2.weight"], W[p + "mlp.fc2.bias"] = rand(g, d, m), rand(g, d, scale=0.1)
    pre = {"image_processor_type": "BitImageProcessor", "do_resize": True, "resample": 3,
           "size": {"shortest_edge": 48}, "do_center_crop": True,
           "crop_size": {"height": crop, "width": crop}, "do_rescale": True,
           "rescale_factor": 1 / 255, "do_normalize": True,
           "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}
    return cfg, pre, W, full, dinov2_forward


def at_input_size(builder, height, width):
    """A builder whose processor feeds height × width inputs to a checkpoint made for another
    size: position embeddings are interpolated (non-square grid)."""
    def build(g, **sizes):
        cfg, pre, W, full, forward = builder(g, **sizes)
        pre = dict(pre)
        if "crop_size" in pre:
            pre["size"] = {"shortest_edge": max(height, width)}
            pre["crop_size"] = {"height": height, "width": width}
        else:
            pre["size"] = {"height": height, "width": width}
        return cfg, pre, W, full, forward
    build.__name__ = builder.__name__
    return build


# (folder, builder, weight dtype in the file)
MODELS = [("siglip", tiny_siglip, "F32"), ("siglip_bf16", tiny_siglip, "BF16"),
          ("clip", tiny_clip, "F32"), ("clip_f16", tiny_clip, "F16"),
          ("dinov2", tiny_dinov2, "F32"),
          ("siglip_48x40", at_input_size(tiny_siglip, 48, 40), "F32"),
          ("clip_48x40", at_input_size(tiny_clip, 48, 40), "F32"),
          # so400m-patch14 shapes in small: patch 14, 4 heads of 12, MLP width 100 (not 4×).
          ("siglip_patch14", lambda g: tiny_siglip(g, d=48, m=100, layers=2, heads=4, image=42,
                                                   patch=14), "F32")]


def write_checkpoint(folder, builder, dtype, seed, **sizes):
    """Writes one checkpoint folder; returns (config, processor config, weights, full config, forward)."""
    g = torch.Generator().manual_seed(seed)
    cfg, pre, W, full, forward = builder(g, **sizes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    (folder / "preprocessor_config.json").write_text(json.dumps(pre, indent=2) + "\n")
    write_safetensors(folder / "model.safetensors", W, dtype)
    return cfg, pre, W, full, forward


def write_ppm(path, image):
    w, h = image.size
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(image.tobytes())


def main(out):
    out = Path(out)
    torch.set_num_threads(1)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "resize").mkdir(parents=True, exist_ok=True)
    images = make_images()
    for name, image in images.items():
        write_ppm(out / "images" / f"{name}.ppm", image)
    for name in ("wide_40x24", "tall_17x31", "big_300x200"):
        for w, h in RESIZE_SIZES:
            write_ppm(out / "resize" / f"{name}_{w}x{h}.ppm", pillow_resize(images[name], w, h))

    (out / "files").mkdir(parents=True, exist_ok=True)
    photo_files = {}
    for name, image in make_photos().items():
        photo_files[name] = out / "files" / name
        image.save(photo_files[name], quality=92)
    reference = {"images": sorted(images), "files": sorted(photo_files), "models": {}}
    for folder, builder, dtype in MODELS:
        cfg, pre, W, full, forward = write_checkpoint(
            out / folder, builder, dtype, SEED + sum(map(ord, builder.__name__)))
        weights = {k: stored(v, dtype).to(torch.float64) for k, v in W.items()}
        family = folder.split("_")[0]
        embeddings = {}
        with torch.no_grad():
            for name in sorted(images):
                pixels = preprocess(images[name], family, pre).unsqueeze(0).to(torch.float64)
                embeddings[name] = [float(x) for x in forward(pixels, weights, full)[0]]
        reference["models"][folder] = {"family": family, "weights_dtype": dtype,
                                       "embeddings": embeddings}
        # Image files as `deft embed` reads them: JPEGs decoded by Pillow, as HF users do.
        file_embeddings = {}
        with torch.no_grad():
            for name, path in photo_files.items():
                with Image.open(path) as im:
                    decoded = im.convert("RGB")
                pixels = preprocess(decoded, family, pre).unsqueeze(0).to(torch.float64)
                file_embeddings[name] = [float(x) for x in forward(pixels, weights, full)[0]]
        reference["models"][folder]["file_embeddings"] = file_embeddings
    (out / "reference.json").write_text(json.dumps(reference, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "tiny")
