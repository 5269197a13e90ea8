#!/usr/bin/python3
"""Checkpoints shaped as the hub publishes them, with reference embeddings, for deft's tests.

Run with Debian's Python stack (torch 1.13, numpy, Pillow); the tests run it (CTest fixture
`published_models`) into the build folder:
    /usr/bin/python3 tests/data/generate_published_models.py OUT

For each checkpoint below it writes OUT/NAME/ with the hub's config.json and
preprocessor_config.json (tests/data/published/, sources in SOURCES.md) with only the depth
lowered, and model.safetensors: random weights of the real widths, heads, patch and image sizes
under the names transformers saves (full two-tower models carry some text weights, ignored).
OUT/reference.json holds each checkpoint's embedding of tests/data/tiny/images/*.ppm, computed
here by an independent PyTorch implementation of the transformers forward passes and image
processors (float64; Pillow does the resizing).

Also written:
  OUT/resize/FILTER/SOURCE_WxH.ppm   Pillow's resize of two test images with every filter
  OUT/bin/...                         the same state dicts saved by torch.save (pytorch_model.bin,
                                      and sharded with pytorch_model.bin.index.json)
  OUT/pickles/CASE/pytorch_model.bin  hostile or broken PyTorch files for the refusal tests

A stamp (the hash of this file and its data) makes a second run with nothing changed a no-op.
"""

import collections
import hashlib
import io
import json
import math
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# The SigLIP and CLIP forward passes are the tiny fixtures' (same transformers code, the config
# fields read from `vc`); DINOv2's below adds giant's SwiGLU, registers and prefixes.
from generate_tiny_models import (RESIZE_SIZES, attention, center_crop,  # noqa: E402
                                  clip_forward, layer_norm, linear, patchify, siglip_forward,
                                  write_ppm, write_safetensors)

PUBLISHED = HERE / "published"
IMAGES = HERE / "tiny" / "images"
SEED = 20261201
INIT_STD = 0.02  # transformers' initializer_range

# (folder, hub id, config file, preprocessor file, layers kept, layout)
#   full: the two-tower / plain model as the hub stores it; vision: the vision tower saved alone
#   (SiglipVisionModel, CLIPVisionModel); classification: Dinov2ForImageClassification.
CHECKPOINTS = [
    ("siglip-base-patch16-224", "google/siglip-base-patch16-224", "siglip-base-patch16-224",
     "siglip-base-patch16-224", 2, "full"),
    ("siglip-so400m-patch14-384", "google/siglip-so400m-patch14-384", "siglip-so400m-patch14-384",
     "siglip-so400m-patch14-384", 1, "full"),
    ("siglip2-base-patch16-224", "google/siglip2-base-patch16-224", "siglip2-base-patch16-224",
     "siglip2-base-patch16-224", 2, "full"),
    ("siglip2-so400m-patch14-384", "google/siglip2-so400m-patch14-384",
     "siglip2-so400m-patch14-384", "siglip2-so400m-patch14-384", 1, "full"),
    ("clip-vit-base-patch32", "openai/clip-vit-base-patch32", "clip-vit-base-patch32",
     "clip-vit-base-patch32", 2, "full"),
    ("clip-vit-large-patch14-336", "openai/clip-vit-large-patch14-336",
     "clip-vit-large-patch14-336", "clip-vit-large-patch14-336", 1, "full"),
    ("laion-clip-vit-b-32", "laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
     "laion-CLIP-ViT-B-32-laion2B-s34B-b79K", "clip-vit-base-patch32", 2, "full"),
    ("dinov2-small", "facebook/dinov2-small", "dinov2-small", "dinov2", 2, "full"),
    ("dinov2-base", "facebook/dinov2-base", "dinov2-base", "dinov2", 2, "full"),
    ("dinov2-large", "facebook/dinov2-large", "dinov2-large", "dinov2", 1, "full"),
    ("dinov2-giant", "facebook/dinov2-giant", "dinov2-giant", "dinov2", 1, "full"),
    ("dinov2-with-registers-base", "facebook/dinov2-with-registers-base",
     "dinov2-with-registers-base", "dinov2", 2, "full"),
    ("siglip-base-patch16-224-vision", "google/siglip-base-patch16-224", "siglip-base-patch16-224",
     "siglip-base-patch16-224", 2, "vision"),
    ("clip-vit-base-patch32-vision", "openai/clip-vit-base-patch32", "clip-vit-base-patch32",
     "clip-vit-base-patch32", 2, "vision"),
    ("dinov2-small-imagenet1k-1-layer", "facebook/dinov2-small-imagenet1k-1-layer", "dinov2-small",
     "dinov2", 2, "classification"),
]


# ----------------------------------------------------------------------------- configs
def read_json(name):
    return json.loads((PUBLISHED / name).read_text())


def with_depth(config, layers):
    """The published config with only num_hidden_layers lowered (in every vision section)."""
    config = json.loads(json.dumps(config))
    model_type = config["model_type"]
    if model_type in ("siglip", "clip"):
        for key in ("vision_config", "vision_config_dict"):
            if isinstance(config.get(key), dict):
                config[key]["num_hidden_layers"] = layers
    else:
        config["num_hidden_layers"] = layers
        if "stage_names" in config:  # the backbone fields follow the depth, as the class does
            config["stage_names"] = ["stem"] + [f"stage{i}" for i in range(1, layers + 1)]
            config["out_features"] = [f"stage{layers}"]
            config["out_indices"] = [layers]
    return config


def vision_only_config(full, layers):
    """What SiglipVisionModel / CLIPVisionModel.save_pretrained write: the vision config's
    fields that differ from the class defaults, plus model_type and architectures."""
    family = full["model_type"]
    vision = effective_vision(full)
    defaults = VISION_DEFAULTS[family]
    out = {"architectures": ["SiglipVisionModel" if family == "siglip" else "CLIPVisionModel"],
           "model_type": f"{family}_vision_model", "torch_dtype": "float32",
           "transformers_version": "4.37.2"}
    for key, value in vision.items():
        if key in defaults and defaults[key] != value:
            out[key] = value
    out["num_hidden_layers"] = layers
    return dict(sorted(out.items()))


def classification_config(plain):
    """Dinov2ForImageClassification's config: the backbone's plus 1000 labels (names here are
    placeholders; the hub file has ImageNet's)."""
    config = dict(plain)
    config["architectures"] = ["Dinov2ForImageClassification"]
    config["id2label"] = {str(i): f"class_{i}" for i in range(1000)}
    config["label2id"] = {f"class_{i}": i for i in range(1000)}
    return dict(sorted(config.items()))


# transformers' configuration classes: SiglipVisionConfig, CLIPVisionConfig, Dinov2Config.
VISION_DEFAULTS = {
    "siglip": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                   num_attention_heads=12, num_channels=3, image_size=224, patch_size=16,
                   hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6),
    "clip": dict(hidden_size=768, intermediate_size=3072, projection_dim=512,
                 num_hidden_layers=12, num_attention_heads=12, num_channels=3, image_size=224,
                 patch_size=32, hidden_act="quick_gelu", layer_norm_eps=1e-5),
    "dinov2": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, mlp_ratio=4,
                   hidden_act="gelu", layer_norm_eps=1e-6, image_size=224, patch_size=14,
                   num_channels=3, qkv_bias=True, use_swiglu_ffn=False, num_register_tokens=0),
}


def effective_vision(config):
    """The vision tower's fields after the configuration class has read `config`."""
    model_type = config["model_type"]
    if model_type in ("siglip", "siglip_vision_model"):
        section = config if model_type.endswith("_vision_model") else (config.get("vision_config") or {})
        out = dict(VISION_DEFAULTS["siglip"])
        out.update({k: v for k, v in section.items() if k in out})
        return out
    if model_type in ("clip", "clip_vision_model"):
        out = dict(VISION_DEFAULTS["clip"])
        if model_type == "clip_vision_model":
            section = config
        elif config.get("vision_config_dict") is not None:
            # CLIPConfig: vision_config.update(CLIPVisionConfig(**vision_config_dict).to_dict())
            section = config["vision_config_dict"]
        else:
            section = config.get("vision_config") or {}
        out.update({k: v for k, v in section.items() if k in out})
        if model_type == "clip":
            out["projection_dim"] = config.get("projection_dim", 512)
        return out
    out = dict(VISION_DEFAULTS["dinov2"])
    if model_type == "dinov2_with_registers":
        out["num_register_tokens"] = 4
    out.update({k: v for k, v in config.items() if k in out})
    width = int(out["hidden_size"] * out["mlp_ratio"])
    out["mlp_width"] = (int(width * 2 / 3) + 7) // 8 * 8 if out["use_swiglu_ffn"] else width
    return out


# ----------------------------------------------------------------------------- processors
RESAMPLE = {0: Image.NEAREST, 1: Image.LANCZOS, 2: Image.BILINEAR, 3: Image.BICUBIC,
            4: Image.BOX, 5: Image.HAMMING}


def processor_settings(pre):
    """(resize, crop, resample, rescale, mean, std) as CLIPImageProcessor, BitImageProcessor and
    SiglipImageProcessor read preprocessor_config.json."""
    kind = pre.get("image_processor_type") or pre.get("feature_extractor_type")
    size = pre["size"]
    if kind == "SiglipImageProcessor":
        resize = ("size", size["height"], size["width"])
        crop = None
    else:  # CLIP / Bit: an int size is the shortest edge, an int crop_size a square
        edge = size if isinstance(size, int) else size["shortest_edge"]
        resize = ("shortest", edge)
        c = pre.get("crop_size", 224)
        crop = (c, c) if isinstance(c, int) else (c["height"], c["width"])
        if not pre.get("do_center_crop", True):
            crop = None
    rescale = pre.get("rescale_factor", 1 / 255) if pre.get("do_rescale", True) else 1.0
    mean, std = pre["image_mean"], pre["image_std"]
    return resize, crop, RESAMPLE[pre.get("resample", 3)], rescale, mean, std


def hf_preprocess(image, pre):
    resize, crop, resample, rescale, mean, std = processor_settings(pre)
    if resize[0] == "size":
        image = image.resize((resize[2], resize[1]), resample, reducing_gap=None)
    else:
        w, h = image.size
        short, long = (w, h) if w <= h else (h, w)
        new_long = int(resize[1] * long / short)
        size = (resize[1], new_long) if w <= h else (new_long, resize[1])
        image = image.resize(size, resample, reducing_gap=None)
    array = np.asarray(image)
    if crop is not None:
        array = center_crop(array, crop[0], crop[1])
    x = (array.astype(np.float64) * rescale).astype(np.float32)
    x = (x - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return torch.from_numpy(x.transpose(2, 0, 1).copy())


# ----------------------------------------------------------------------------- forward passes
def resize_positions(pos, grid, new_h, new_w, antialias):
    """pos [grid*grid, D] -> [new_h*new_w, D]: F.interpolate bicubic, align_corners=False, as
    the models call it (float32 in, as transformers casts; antialias for the register model)."""
    d = pos.shape[-1]
    p = pos.reshape(1, grid, grid, d).permute(0, 3, 1, 2).to(torch.float32)
    p = F.interpolate(p, size=(new_h, new_w), mode="bicubic", align_corners=False,
                      antialias=antialias)
    return p.to(torch.float64).permute(0, 2, 3, 1).reshape(new_h * new_w, d)


def dinov2_forward(pixels, W, vc, prefix=""):
    p, eps, patch = prefix, vc["layer_norm_eps"], vc["patch_size"]
    h = patchify(pixels, W[p + "embeddings.patch_embeddings.projection.weight"],
                 W[p + "embeddings.patch_embeddings.projection.bias"], patch)
    pos = W[p + "embeddings.position_embeddings"][0]
    gh, gw = pixels.shape[2] // patch, pixels.shape[3] // patch
    registers = vc["num_register_tokens"] > 0
    patch_pos = resize_positions(pos[1:], math.isqrt(pos.shape[0] - 1), gh, gw, registers)
    cls = W[p + "embeddings.cls_token"].expand(h.shape[0], 1, -1)
    h = torch.cat([cls, h], dim=1) + torch.cat([pos[:1], patch_pos], dim=0)
    if registers:  # Dinov2WithRegistersEmbeddings: after the positions, between cls and patches
        reg = W[p + "embeddings.register_tokens"].expand(h.shape[0], -1, -1)
        h = torch.cat([h[:, :1], reg, h[:, 1:]], dim=1)
    for i in range(vc["num_hidden_layers"]):
        q = f"{p}encoder.layer.{i}."
        x = layer_norm(h, W[q + "norm1.weight"], W[q + "norm1.bias"], eps)
        bias = lambda n: W.get(q + f"attention.attention.{n}.bias")  # noqa: E731 (qkv_bias)
        a = attention(x, x, W[q + "attention.attention.query.weight"], bias("query"),
                      W[q + "attention.attention.key.weight"], bias("key"),
                      W[q + "attention.attention.value.weight"], bias("value"),
                      W[q + "attention.output.dense.weight"], W[q + "attention.output.dense.bias"],
                      vc["num_attention_heads"])
        h = h + W[q + "layer_scale1.lambda1"] * a
        x = layer_norm(h, W[q + "norm2.weight"], W[q + "norm2.bias"], eps)
        if vc["use_swiglu_ffn"]:  # Dinov2SwiGLUFFN: x1, x2 = chunk(2); silu(x1) * x2
            x1, x2 = linear(x, W[q + "mlp.weights_in.weight"], W[q + "mlp.weights_in.bias"]).chunk(2, dim=-1)
            m = linear(F.silu(x1) * x2, W[q + "mlp.weights_out.weight"], W[q + "mlp.weights_out.bias"])
        else:
            m = linear(F.gelu(linear(x, W[q + "mlp.fc1.weight"], W[q + "mlp.fc1.bias"])),
                       W[q + "mlp.fc2.weight"], W[q + "mlp.fc2.bias"])
        h = h + W[q + "layer_scale2.lambda1"] * m
    h = layer_norm(h, W[p + "layernorm.weight"], W[p + "layernorm.bias"], eps)
    return h[:, 0]


# ----------------------------------------------------------------------------- weights
def rand(g, *shape, scale=INIT_STD):
    return torch.randn(*shape, generator=g) * scale


def norm_pair(g, name, d):
    return {name + ".weight": 1 + rand(g, d, scale=0.1), name + ".bias": rand(g, d, scale=0.1)}


def linear_pair(g, name, out, inp, bias=True):
    w = {name + ".weight": rand(g, out, inp)}
    if bias:
        w[name + ".bias"] = rand(g, out, scale=0.02)
    return w


def clip_style_layers(g, prefix, vc):
    d, m, W = vc["hidden_size"], vc["intermediate_size"], {}
    for i in range(vc["num_hidden_layers"]):
        p = f"{prefix}encoder.layers.{i}."
        W.update(norm_pair(g, p + "layer_norm1", d))
        W.update(norm_pair(g, p + "layer_norm2", d))
        for n in ("q", "k", "v", "out"):
            W.update(linear_pair(g, p + f"self_attn.{n}_proj", d, d))
        W.update(linear_pair(g, p + "mlp.fc1", m, d))
        W.update(linear_pair(g, p + "mlp.fc2", d, m))
    return W


def siglip_weights(g, vc, with_text):
    v, d, m, patch = "vision_model.", vc["hidden_size"], vc["intermediate_size"], vc["patch_size"]
    grid = vc["image_size"] // patch
    W = {v + "embeddings.patch_embedding.weight": rand(g, d, 3, patch, patch),
         v + "embeddings.patch_embedding.bias": rand(g, d),
         v + "embeddings.position_embedding.weight": rand(g, grid * grid, d, scale=0.5),
         v + "head.probe": rand(g, 1, 1, d, scale=1.0),
         v + "head.attention.in_proj_weight": rand(g, 3 * d, d),
         v + "head.attention.in_proj_bias": rand(g, 3 * d)}
    W.update(linear_pair(g, v + "head.attention.out_proj", d, d))
    W.update(linear_pair(g, v + "head.mlp.fc1", m, d))
    W.update(linear_pair(g, v + "head.mlp.fc2", d, m))
    W.update(norm_pair(g, v + "post_layernorm", d))
    W.update(norm_pair(g, v + "head.layernorm", d))
    W.update(clip_style_layers(g, v, vc))
    if with_text:  # a few of SiglipModel's other tensors, under their real names
        W.update({"logit_scale": torch.tensor([2.3]), "logit_bias": torch.tensor([-10.0]),
                  "text_model.embeddings.position_embedding.weight": rand(g, 64, 32),
                  "text_model.final_layer_norm.weight": torch.ones(32),
                  "text_model.head.weight": rand(g, 32, 32)})
    return W


def clip_weights(g, vc, with_text, projection):
    v, d, patch = "vision_model.", vc["hidden_size"], vc["patch_size"]
    grid = vc["image_size"] // patch
    W = {v + "embeddings.class_embedding": rand(g, d, scale=1.0),
         v + "embeddings.patch_embedding.weight": rand(g, d, 3, patch, patch),
         v + "embeddings.position_embedding.weight": rand(g, grid * grid + 1, d, scale=0.5)}
    W.update(norm_pair(g, v + "pre_layrnorm", d))
    W.update(norm_pair(g, v + "post_layernorm", d))
    W.update(clip_style_layers(g, v, vc))
    if projection:
        W["visual_projection.weight"] = rand(g, vc["projection_dim"], d)
    if with_text:
        W.update({"logit_scale": torch.tensor(2.6592), "text_projection.weight": rand(g, 32, 32),
                  "text_model.final_layer_norm.weight": torch.ones(32)})
    return W


def dinov2_weights(g, vc, prefix):
    p, d, patch = prefix, vc["hidden_size"], vc["patch_size"]
    grid = vc["image_size"] // patch
    W = {p + "embeddings.cls_token": rand(g, 1, 1, d, scale=1.0),
         p + "embeddings.mask_token": torch.zeros(1, d),
         p + "embeddings.position_embeddings": rand(g, 1, grid * grid + 1, d, scale=0.5),
         p + "embeddings.patch_embeddings.projection.weight": rand(g, d, 3, patch, patch),
         p + "embeddings.patch_embeddings.projection.bias": rand(g, d)}
    if vc["num_register_tokens"]:
        W[p + "embeddings.register_tokens"] = rand(g, 1, vc["num_register_tokens"], d, scale=1.0)
    W.update(norm_pair(g, p + "layernorm", d))
    m = vc["mlp_width"]
    for i in range(vc["num_hidden_layers"]):
        q = f"{p}encoder.layer.{i}."
        W.update(norm_pair(g, q + "norm1", d))
        W.update(norm_pair(g, q + "norm2", d))
        for n in ("query", "key", "value"):
            W.update(linear_pair(g, q + f"attention.attention.{n}", d, d, vc["qkv_bias"]))
        W.update(linear_pair(g, q + "attention.output.dense", d, d))
        W[q + "layer_scale1.lambda1"] = 1 + rand(g, d, scale=0.3)
        W[q + "layer_scale2.lambda1"] = 1 + rand(g, d, scale=0.3)
        if vc["use_swiglu_ffn"]:
            W.update(linear_pair(g, q + "mlp.weights_in", 2 * m, d))
            W.update(linear_pair(g, q + "mlp.weights_out", d, m))
        else:
            W.update(linear_pair(g, q + "mlp.fc1", m, d))
            W.update(linear_pair(g, q + "mlp.fc2", d, m))
    return W


def build(folder, hub_id, config_file, pre_file, layers, layout, seed):
    """Returns (config, preprocessor, weights, forward) of one checkpoint."""
    g = torch.Generator().manual_seed(seed)
    config = with_depth(read_json(f"{config_file}.config.json"), layers)
    pre = read_json(f"{pre_file}.preprocessor_config.json")
    model_type = config["model_type"]
    if layout == "vision":
        config = vision_only_config(config, layers)
    elif layout == "classification":
        config = classification_config(config)
    vc = effective_vision(config)
    if model_type == "siglip":
        W = siglip_weights(g, vc, layout == "full")
        return config, pre, W, lambda x, w: siglip_forward(x, w, vc)
    if model_type == "clip":
        W = clip_weights(g, vc, layout == "full", layout == "full")
        return config, pre, W, lambda x, w: clip_forward(x, w, vc)
    prefix = "dinov2." if layout == "classification" else ""
    W = dinov2_weights(g, vc, prefix)
    if layout == "classification":
        W["classifier.weight"] = rand(g, 1000, 2 * vc["hidden_size"])
        W["classifier.bias"] = torch.zeros(1000)
    return config, pre, W, lambda x, w: dinov2_forward(x, w, vc, prefix)


# ----------------------------------------------------------------------------- .bin files
def save_bin(folder, config, pre, W, shards):
    """torch.save of the state dict (as module.state_dict() gives it), whole or in shards with
    pytorch_model.bin.index.json, as transformers' save_pretrained(safe_serialization=False)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    (folder / "preprocessor_config.json").write_text(json.dumps(pre, indent=2, sort_keys=True) + "\n")
    names = sorted(W)
    parts = [names[i::shards] for i in range(shards)]
    weight_map = {}
    for k, part in enumerate(parts):
        sd = collections.OrderedDict((n, W[n].detach().clone().contiguous()) for n in part)
        sd._metadata = collections.OrderedDict([("", {"version": 1})])
        file = "pytorch_model.bin" if shards == 1 else f"pytorch_model-{k + 1:05d}-of-{shards:05d}.bin"
        torch.save(sd, folder / file)
        weight_map.update({n: file for n in part})
    if shards > 1:
        index = {"metadata": {"total_size": sum(W[n].numel() * 4 for n in names)},
                 "weight_map": dict(sorted(weight_map.items()))}
        (folder / "pytorch_model.bin.index.json").write_text(json.dumps(index, indent=2) + "\n")


class FakeStorage:
    def __init__(self, key, numel, kind="FloatStorage"):
        self.key, self.numel, self.kind = key, numel, kind


class FakeTensor:
    """Pickles as torch.save writes a tensor: _rebuild_tensor_v2(storage, offset, size, stride,
    requires_grad, backward_hooks), with the storage as a persistent id."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, self.offset, tuple(self.size), tuple(self.stride), False,
                 collections.OrderedDict()))


class Evil:
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


class StorageCall:
    """REDUCE on torch.FloatStorage: an allowed name, but not something deft ever calls."""

    def __reduce__(self):
        return (torch.FloatStorage, (4,))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, FakeStorage):
            return ("storage", getattr(torch, obj.kind), obj.key, "cpu", obj.numel)
        return None


def write_torch_zip(path, obj, records):
    """A PyTorch zip checkpoint: archive/data.pkl (protocol 2), archive/data/KEY records."""
    buffer = io.BytesIO()
    TorchPickler(buffer, protocol=2).dump(obj)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buffer.getvalue())
        z.writestr("archive/byteorder", "little")
        for key, data in records.items():
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", "3\n")


def write_pickle_cases(out, good_bin):
    """Hostile and broken .bin files, each in a folder of its own (with a config.json)."""
    marker = out / "pickles" / "MARKER"
    config = read_json("dinov2-small.config.json")
    floats = np.arange(16, dtype=np.float32).tobytes()
    state = lambda t: collections.OrderedDict([("embeddings.cls_token", t)])  # noqa: E731
    import builtins
    import os
    import subprocess
    cases = {
        "os_system": Evil(os.system, (f"touch {marker}",)),
        "builtins_eval": Evil(builtins.eval, (f"__import__('os').system('touch {marker}')",)),
        "subprocess_call": Evil(subprocess.call, (["touch", str(marker)],)),
        "reduce_storage_type": collections.OrderedDict([("x", StorageCall())]),
        "size_beyond_storage": state(FakeTensor(FakeStorage("0", 16), 0, [5, 4], [4, 1])),
        "offset_beyond_storage": state(FakeTensor(FakeStorage("0", 16), 20, [2], [1])),
        "record_shorter_than_storage": state(FakeTensor(FakeStorage("0", 64), 0, [16], [1])),
        "missing_record": state(FakeTensor(FakeStorage("7", 16), 0, [16], [1])),
    }
    for name, obj in cases.items():
        folder = out / "pickles" / name
        write_torch_zip(folder / "pytorch_model.bin", obj, {"0": floats})
        (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    # A strided (non-contiguous) tensor and a shared storage: legal, read correctly.
    folder = out / "pickles" / "strided"
    storage = FakeStorage("0", 16)
    write_torch_zip(folder / "pytorch_model.bin",
                    collections.OrderedDict([("transposed", FakeTensor(storage, 0, [4, 4], [1, 4])),
                                             ("row2", FakeTensor(storage, 8, [4], [1]))]),
                    {"0": floats})
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    # The legacy (pre-1.6, non-zip) format and a truncated zip.
    folder = out / "pickles" / "legacy_format"
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"x": torch.ones(2)}, folder / "pytorch_model.bin", _use_new_zipfile_serialization=False)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    folder = out / "pickles" / "truncated_zip"
    folder.mkdir(parents=True, exist_ok=True)
    data = good_bin.read_bytes()
    (folder / "pytorch_model.bin").write_bytes(data[: len(data) // 2])
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")


# ----------------------------------------------------------------------------- main
def stamp():
    h = hashlib.sha256(Path(__file__).read_bytes())
    for f in sorted(PUBLISHED.glob("*.json")) + sorted(IMAGES.glob("*.ppm")):
        h.update(f.name.encode() + f.read_bytes())
    h.update(torch.__version__.encode())
    return h.hexdigest()


def read_ppm(path):
    return Image.open(path).convert("RGB")


def main(out):
    out = Path(out)
    expected = stamp()
    if (out / "STAMP").exists() and (out / "STAMP").read_text() == expected:
        return
    torch.set_num_threads(2)
    out.mkdir(parents=True, exist_ok=True)
    images = {p.stem: read_ppm(p) for p in sorted(IMAGES.glob("*.ppm"))}

    for name in ("tall_17x31", "big_300x200"):
        for number, resample in RESAMPLE.items():
            folder = out / "resize" / str(number)
            folder.mkdir(parents=True, exist_ok=True)
            for w, h in RESIZE_SIZES:
                write_ppm(folder / f"{name}_{w}x{h}.ppm", images[name].resize((w, h), resample))

    reference = {"images": sorted(images), "checkpoints": {}}
    for index, (folder, hub_id, config_file, pre_file, layers, layout) in enumerate(CHECKPOINTS):
        config, pre, W, forward = build(folder, hub_id, config_file, pre_file, layers, layout,
                                        SEED + index)
        target = out / folder
        target.mkdir(parents=True, exist_ok=True)
        (target / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        (target / "preprocessor_config.json").write_text(json.dumps(pre, indent=2, sort_keys=True) + "\n")
        write_safetensors(target / "model.safetensors", W, "F32")
        weights = {k: v.to(torch.float64) for k, v in W.items()}
        embeddings = {}
        with torch.no_grad():
            for name, image in images.items():
                pixels = hf_preprocess(image, pre).unsqueeze(0).to(torch.float64)
                embeddings[name] = [float(x) for x in forward(pixels, weights)[0]]
        reference["checkpoints"][folder] = {"hub_id": hub_id, "model_type": config["model_type"],
                                            "layout": layout, "embeddings": embeddings}
        if folder == "dinov2-small":
            save_bin(out / "bin" / "dinov2-small", config, pre, W, 1)
        if folder == "siglip-base-patch16-224":
            save_bin(out / "bin" / "siglip-base-patch16-224-sharded", config, pre, W, 3)
    (out / "reference.json").write_text(json.dumps(reference, indent=1) + "\n")
    write_pickle_cases(out, out / "bin" / "dinov2-small" / "pytorch_model.bin")
    (out / "STAMP").write_text(expected)


if __name__ == "__main__":
    main(sys.argv[1])
