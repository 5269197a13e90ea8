#include "model/vision_config.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace deft::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::kInput, fmt::format("cannot read '{}'", path.string()));
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}' is not valid JSON: {}", path.string(), e.what()));
  }
}

// A typed optional key: absent or null keeps `value`; a wrong type names file and key.
template <typename T>
void read_key(const json& object, const char* key, T& value, const fs::path& file) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return;
  try {
    value = it->get<T>();
  } catch (const json::exception&) {
    throw Error(ErrorKind::kInput, fmt::format("'{}': key '{}' has the wrong type ({})",
                                               file.string(), key, it->dump()));
  }
}

Family family_of_model_type(const std::string& model_type, const fs::path& file) {
  if (model_type == "siglip" || model_type == "siglip_vision_model") return Family::kSigLIP;
  if (model_type == "clip" || model_type == "clip_vision_model") return Family::kCLIP;
  if (model_type == "dinov2") return Family::kDINOv2;
  throw Error(ErrorKind::kInput,
              fmt::format("'{}': model_type '{}' is not an encoder deft supports (siglip, clip, "
                          "dinov2)",
                          file.string(), model_type));
}

VisionConfig family_defaults(Family family) {
  VisionConfig v;
  v.family = family;
  switch (family) {
    case Family::kSigLIP:
      break;  // the struct's defaults are SigLIP-B/16-224's
    case Family::kCLIP:
      v.patch_size = 32;
      v.hidden_act = Activation::kQuickGelu;
      v.layer_norm_eps = 1e-5F;
      v.projection_dim = 512;
      v.use_head = false;
      break;
    case Family::kDINOv2:
      v.patch_size = 14;
      v.image_size = 518;
      v.hidden_act = Activation::kGeluErf;
      v.use_head = false;
      break;
  }
  return v;
}

Activation parse_activation(const std::string& name, const fs::path& file) {
  if (name == "gelu_pytorch_tanh" || name == "gelu_new") return Activation::kGeluTanh;
  if (name == "quick_gelu") return Activation::kQuickGelu;
  if (name == "gelu") return Activation::kGeluErf;
  throw Error(ErrorKind::kInput,
              fmt::format("'{}': hidden_act '{}' is not supported (gelu_pytorch_tanh, quick_gelu, "
                          "gelu)",
                          file.string(), name));
}

void read_vision(const json& v, VisionConfig& config, const fs::path& file) {
  read_key(v, "hidden_size", config.hidden_size, file);
  read_key(v, "intermediate_size", config.intermediate_size, file);
  read_key(v, "num_hidden_layers", config.num_hidden_layers, file);
  read_key(v, "num_attention_heads", config.num_attention_heads, file);
  read_key(v, "num_channels", config.num_channels, file);
  read_key(v, "image_size", config.image_size, file);
  read_key(v, "patch_size", config.patch_size, file);
  read_key(v, "layer_norm_eps", config.layer_norm_eps, file);
  read_key(v, "vision_use_head", config.use_head, file);
  std::string act;
  read_key(v, "hidden_act", act, file);
  if (!act.empty()) config.hidden_act = parse_activation(act, file);
}

void check_vision(const VisionConfig& v, const fs::path& file) {
  const auto bad = [&](const std::string& what) {
    throw Error(ErrorKind::kInput, fmt::format("'{}': {}", file.string(), what));
  };
  if (v.hidden_size <= 0 || v.intermediate_size <= 0 || v.num_hidden_layers <= 0 ||
      v.num_attention_heads <= 0 || v.patch_size <= 0 || v.image_size < v.patch_size) {
    bad("sizes must be positive and image_size at least patch_size");
  }
  if (v.hidden_size % v.num_attention_heads != 0) {
    bad(fmt::format("hidden_size {} is not a multiple of num_attention_heads {}", v.hidden_size,
                    v.num_attention_heads));
  }
  if (v.num_channels != 3) bad(fmt::format("num_channels {} (deft feeds RGB: 3)", v.num_channels));
}

preprocess::ProcessorConfig processor_defaults(const VisionConfig& v) {
  preprocess::ProcessorConfig p;
  switch (v.family) {
    case Family::kSigLIP:
      p.resize = preprocess::ResizeMode::kToSize;
      p.height = p.width = v.image_size;
      break;
    case Family::kCLIP:
      p.resize = preprocess::ResizeMode::kShortestEdge;
      p.shortest_edge = p.crop_height = p.crop_width = v.image_size;
      p.center_crop = true;
      p.mean = {0.48145466F, 0.4578275F, 0.40821073F};
      p.std = {0.26862954F, 0.26130258F, 0.27577711F};
      break;
    case Family::kDINOv2:
      p.resize = preprocess::ResizeMode::kShortestEdge;
      p.shortest_edge = 256;
      p.crop_height = p.crop_width = 224;
      p.center_crop = true;
      p.mean = {0.485F, 0.456F, 0.406F};
      p.std = {0.229F, 0.224F, 0.225F};
      break;
  }
  return p;
}

// "size" / "crop_size": an int (older processors) or {"height", "width"} / {"shortest_edge"}.
void read_size(const json& p, const char* key, preprocess::ProcessorConfig& config, bool crop,
               const fs::path& file) {
  const auto it = p.find(key);
  if (it == p.end() || it->is_null()) return;
  int height = -1;
  int width = -1;
  int shortest = -1;
  if (it->is_number_integer()) {
    (crop ? height : shortest) = it->get<int>();
    if (crop) width = height;
  } else if (it->is_object()) {
    read_key(*it, "height", height, file);
    read_key(*it, "width", width, file);
    read_key(*it, "shortest_edge", shortest, file);
  } else {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}': '{}' must be a number or an object", file.string(), key));
  }
  if (crop) {
    if (height > 0) config.crop_height = height;
    if (width > 0) config.crop_width = width;
  } else if (shortest > 0) {
    config.resize = preprocess::ResizeMode::kShortestEdge;
    config.shortest_edge = shortest;
  } else if (height > 0 && width > 0) {
    config.resize = preprocess::ResizeMode::kToSize;
    config.height = height;
    config.width = width;
  }
}

void read_processor(const fs::path& file, preprocess::ProcessorConfig& config) {
  const json p = read_json(file);
  if (!p.is_object())
    throw Error(ErrorKind::kInput, fmt::format("'{}' is not an object", file.string()));
  int resample = 3;
  read_key(p, "resample", resample, file);
  if (resample != 3) {
    throw Error(
        ErrorKind::kInput,
        fmt::format("'{}': resample {} is not supported; deft reproduces Pillow BICUBIC (3)",
                    file.string(), resample));
  }
  read_size(p, "size", config, false, file);
  read_size(p, "crop_size", config, true, file);
  read_key(p, "do_center_crop", config.center_crop, file);
  read_key(p, "rescale_factor", config.rescale_factor, file);
  std::vector<float> mean;
  std::vector<float> std;
  read_key(p, "image_mean", mean, file);
  read_key(p, "image_std", std, file);
  if ((!mean.empty() && mean.size() != 3) || (!std.empty() && std.size() != 3)) {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}': image_mean and image_std need 3 values", file.string()));
  }
  if (!mean.empty()) std::copy(mean.begin(), mean.end(), config.mean.begin());
  if (!std.empty()) std::copy(std.begin(), std.end(), config.std.begin());
  if (config.resize == preprocess::ResizeMode::kShortestEdge && !config.center_crop) {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}': a shortest-edge resize without a center crop gives inputs of "
                            "varying size, which deft does not support",
                            file.string()));
  }
}

}  // namespace

const char* family_name(Family family) {
  switch (family) {
    case Family::kSigLIP:
      return "SigLIP";
    case Family::kCLIP:
      return "CLIP";
    case Family::kDINOv2:
      return "DINOv2";
  }
  return "?";
}

Family parse_family(std::string_view name) {
  for (Family f : {Family::kSigLIP, Family::kCLIP, Family::kDINOv2}) {
    if (lower(name) == lower(family_name(f))) return f;
  }
  throw Error(ErrorKind::kUsage, fmt::format("model '{}' is not SigLIP, CLIP or DINOv2", name));
}

ModelConfig load_model_config(const fs::path& folder, Family family) {
  const fs::path file = folder / "config.json";
  if (!fs::exists(file)) {
    throw Error(ErrorKind::kInput,
                fmt::format("checkpoint folder '{}' has no config.json", folder.string()));
  }
  const json root = read_json(file);
  if (!root.is_object())
    throw Error(ErrorKind::kInput, fmt::format("'{}' is not an object", file.string()));
  std::string model_type;
  read_key(root, "model_type", model_type, file);
  const Family found = family_of_model_type(model_type, file);
  if (found != family) {
    throw Error(ErrorKind::kInput,
                fmt::format("model is {} but the checkpoint in '{}' is {} (model_type '{}')",
                            family_name(family), folder.string(), family_name(found), model_type),
                fmt::format("set model={} or point model_path at a {} checkpoint",
                            family_name(found), family_name(family)));
  }

  ModelConfig config;
  config.vision = family_defaults(family);
  config.vision.model_type = model_type;
  if (family == Family::kDINOv2 || model_type.ends_with("_vision_model")) {
    read_vision(root, config.vision, file);  // flat configs
  } else {
    // Full SigLIP/CLIP configs nest the vision tower; CLIP's legacy vision_config_dict wins.
    const char* section =
        root.contains("vision_config_dict") ? "vision_config_dict" : "vision_config";
    if (root.contains(section) && root[section].is_object()) {
      read_vision(root[section], config.vision, file);
    }
  }
  if (family == Family::kCLIP) read_key(root, "projection_dim", config.vision.projection_dim, file);
  check_vision(config.vision, file);

  config.processor = processor_defaults(config.vision);
  const fs::path processor = folder / "preprocessor_config.json";
  if (fs::exists(processor)) read_processor(processor, config.processor);
  return config;
}

}  // namespace deft::model
