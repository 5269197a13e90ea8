#include "model/vision_config.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "common/error.h"
#include "model/families.h"
#include "model/json_fields.h"
#include "model/processor_config.h"

namespace deft::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A model_type no family loads: NaFlex SigLIP2 gets its own reason.
[[noreturn]] void refuse_model_type(const std::string& model_type, const fs::path& file) {
  if (model_type == "siglip2" || model_type == "siglip2_vision_model") {
    refuse_config(file,
                  fmt::format("model_type '{}' is a NaFlex SigLIP2 (variable resolution), which "
                              "deft does not run; the fixed-resolution SigLIP2 checkpoints "
                              "(e.g. google/siglip2-base-patch16-224, model_type 'siglip') load",
                              model_type));
  }
  std::string known;
  for (const std::string& n : known_model_types())
    known += (known.empty() ? "" : ", ") + n;
  refuse_config(
      file, fmt::format("model_type '{}' is not an encoder deft supports ({})", model_type, known));
}

// The fields every family's vision tower reads.
void read_common(const json& v, VisionConfig& config, const fs::path& file) {
  read_field(v, "hidden_size", config.hidden_size, file);
  read_field(v, "num_hidden_layers", config.num_hidden_layers, file);
  read_field(v, "num_attention_heads", config.num_attention_heads, file);
  read_field(v, "num_channels", config.num_channels, file);
  read_field(v, "image_size", config.image_size, file);
  read_field(v, "patch_size", config.patch_size, file);
  config.layer_norm_eps =
      static_cast<float>(read_number(v, "layer_norm_eps", config.layer_norm_eps, file));
  std::string act;
  read_field(v, "hidden_act", act, file);
  if (!act.empty()) config.hidden_act = parse_activation(act, file);
}

// SigLIP: vision_config (or the flat siglip_vision_model config). vision_use_head is not a
// SiglipVisionConfig field: the model reads it with a default of true.
void read_siglip(const json& v, VisionConfig& config, const fs::path& file) {
  read_common(v, config, file);
  read_field(v, "intermediate_size", config.intermediate_size, file);
  read_field(v, "vision_use_head", config.use_head, file);
  if (!config.use_head) {
    refuse_config(file,
                  "vision_use_head is false: a SigLIP vision tower without its pooling head has "
                  "no image embedding (get_image_features returns the head's output)");
  }
}

// CLIP: CLIPConfig pops vision_config_dict and, when it is not null, updates vision_config with
// CLIPVisionConfig(**vision_config_dict).to_dict(): every field the class has, absent ones at
// their defaults, so vision_config's own values no longer count. A null dict is skipped.
void read_clip(const json& root, bool nested, VisionConfig& config, const fs::path& file) {
  const auto legacy = root.find("vision_config_dict");
  const json& v = !nested                                       ? root
                  : legacy != root.end() && legacy->is_object() ? *legacy
                                                                : object_at(root, "vision_config");
  read_common(v, config, file);
  read_field(v, "intermediate_size", config.intermediate_size, file);
  // CLIPModel sizes visual_projection by the top-level projection_dim; a flat
  // CLIPVisionModelWithProjection config by its own.
  read_field(root, "projection_dim", config.projection_dim, file);
}

// DINOv2: flat. The MLP width is derived (Dinov2MLP: int(hidden_size × mlp_ratio); Dinov2
// SwiGLUFFN: that, × 2/3, rounded up to a multiple of 8); an intermediate_size key is not read
// by transformers and is not read here either.
void read_dinov2(const json& v, bool registers, VisionConfig& config, const fs::path& file) {
  config.image_size = 224;  // Dinov2Config's default (hub files say 518)
  read_common(v, config, file);
  const double mlp_ratio = read_number(v, "mlp_ratio", 4.0, file);
  if (!(mlp_ratio > 0.0) || mlp_ratio * config.hidden_size > 1e8)
    refuse_config(file, fmt::format("mlp_ratio {} is out of range", mlp_ratio));
  const auto width = static_cast<int>(config.hidden_size * mlp_ratio);  // Python's int(): trunc
  bool swiglu = false;
  read_field(v, "use_swiglu_ffn", swiglu, file);
  read_field(v, "qkv_bias", config.qkv_bias, file);
  config.feed_forward = swiglu ? FeedForward::kSwiGlu : FeedForward::kMlp;
  config.intermediate_size = swiglu ? (static_cast<int>(width * 2.0 / 3.0) + 7) / 8 * 8 : width;
  if (registers) {
    config.register_tokens = 4;  // Dinov2WithRegistersConfig's default
    read_field(v, "num_register_tokens", config.register_tokens, file);
    if (config.register_tokens < 0 || config.register_tokens > 1024)
      refuse_config(file,
                    fmt::format("num_register_tokens {} is out of range", config.register_tokens));
    config.position_resize = PositionResize::kBicubicAntialias;
  }
}

void check_vision(const VisionConfig& v, const fs::path& file) {
  constexpr int kMaxWidth = 1 << 16;
  if (v.hidden_size <= 0 || v.intermediate_size <= 0 || v.num_hidden_layers <= 0 ||
      v.num_attention_heads <= 0 || v.patch_size <= 0 || v.image_size < v.patch_size ||
      v.hidden_size > kMaxWidth || v.intermediate_size > 4 * kMaxWidth ||
      v.num_hidden_layers > 1024 || v.patch_size > 1024 || v.image_size > 16384) {
    refuse_config(file, "sizes must be positive (and sane), and image_size at least patch_size");
  }
  if (v.hidden_size % v.num_attention_heads != 0) {
    refuse_config(file, fmt::format("hidden_size {} is not a multiple of num_attention_heads {}",
                                    v.hidden_size, v.num_attention_heads));
  }
  if (v.num_channels != 3)
    refuse_config(file, fmt::format("num_channels {} (deft feeds RGB: 3)", v.num_channels));
  if (!(v.layer_norm_eps > 0.0F)) refuse_config(file, "layer_norm_eps must be positive");
  if (v.projection_dim < 0 || v.projection_dim > kMaxWidth)
    refuse_config(file, fmt::format("projection_dim {} is out of range", v.projection_dim));
}

}  // namespace

Activation parse_activation(const std::string& name, const fs::path& file) {
  // transformers' ACT2FN: gelu_new and gelu_fast are the tanh approximation too.
  if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast")
    return Activation::kGeluTanh;
  if (name == "quick_gelu") return Activation::kQuickGelu;
  if (name == "gelu" || name == "gelu_python") return Activation::kGeluErf;
  refuse_config(file,
                fmt::format("hidden_act '{}' is not supported (gelu, gelu_pytorch_tanh, gelu_new, "
                            "quick_gelu)",
                            name));
}

const char* activation_name(Activation act) {
  switch (act) {
    case Activation::kGeluTanh:
      return "gelu_tanh";
    case Activation::kQuickGelu:
      return "quick_gelu";
    case Activation::kGeluErf:
      return "gelu_erf";
  }
  return "?";
}

void read_siglip_config(const json& root, const std::string& model_type, VisionConfig& config,
                        const fs::path& file) {
  read_siglip(model_type == "siglip" ? object_at(root, "vision_config") : root, config, file);
}

void read_clip_config(const json& root, const std::string& model_type, VisionConfig& config,
                      const fs::path& file) {
  read_clip(root, model_type == "clip", config, file);
}

void read_dinov2_config(const json& root, const std::string& model_type, VisionConfig& config,
                        const fs::path& file) {
  read_dinov2(root, model_type == "dinov2_with_registers", config, file);
}

const char* family_name(Family family) {
  return family_row(family).name.c_str();
}

Family parse_family(std::string_view name) {
  if (const FamilyRow* row = family_named(name)) return row->id;
  std::string known;
  for (const std::string& n : family_names())
    known += (known.empty() ? "" : ", ") + n;
  throw Error(ErrorKind::kUsage, fmt::format("model '{}' is not one of {}", name, known));
}

std::string VisionConfig::describe() const {
  std::string text = fmt::format(
      "{}; hidden {}; layers {}; heads {}; patch {}; image {}; {} {}; eps {:g}", model_type,
      hidden_size, num_hidden_layers, num_attention_heads, patch_size, image_size,
      feed_forward == FeedForward::kSwiGlu ? "swiglu" : "mlp", intermediate_size, layer_norm_eps);
  if (feed_forward == FeedForward::kMlp)
    text += fmt::format("; act {}", activation_name(hidden_act));
  if (!qkv_bias) text += "; no qkv bias";
  if (register_tokens > 0) text += fmt::format("; registers {}", register_tokens);
  if (position_resize == PositionResize::kBicubicAntialias) text += "; positions bicubic-aa";
  if (projection_dim > 0) text += fmt::format("; projection {}", projection_dim);  // CLIP only
  return text;
}

ModelConfig load_model_config(const fs::path& folder, Family family) {
  const fs::path file = folder / "config.json";
  if (!fs::exists(file)) {
    throw Error(ErrorKind::kInput,
                fmt::format("checkpoint folder '{}' has no config.json", folder.string()));
  }
  const json root = read_json_object(file);
  std::string model_type;
  read_field(root, "model_type", model_type, file);
  const FamilyRow* found = family_of_model_type(model_type);
  if (found == nullptr) refuse_model_type(model_type, file);
  if (found->id != family) {
    throw Error(ErrorKind::kInput,
                fmt::format("model is {} but the checkpoint in '{}' is {} (model_type '{}')",
                            family_name(family), folder.string(), found->name, model_type),
                fmt::format("set model={} or point model_path at a {} checkpoint", found->name,
                            family_name(family)));
  }

  ModelConfig config;
  config.vision = found->defaults();
  config.vision.family = family;
  config.vision.model_type = model_type;
  found->read_config(root, model_type, config.vision, file);
  check_vision(config.vision, file);

  const fs::path processor = folder / "preprocessor_config.json";
  config.processor = fs::exists(processor) ? load_processor_config(processor, config.vision)
                                           : default_processor(config.vision);
  return config;
}

}  // namespace deft::model
