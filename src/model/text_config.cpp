#include "model/text_config.h"

#include <fmt/format.h>

#include "model/json_fields.h"

namespace deft::model {

namespace fs = std::filesystem;
using json = nlohmann::json;

VisionConfig TextConfig::block_config() const {
  VisionConfig v;
  v.family = family;
  v.hidden_size = hidden_size;
  v.intermediate_size = intermediate_size;
  v.num_hidden_layers = num_hidden_layers;
  v.num_attention_heads = num_attention_heads;
  v.hidden_act = hidden_act;
  v.layer_norm_eps = layer_norm_eps;
  return v;
}

std::string TextConfig::describe() const {
  return fmt::format(
      "text {}: vocab {}, hidden {}, mlp {}, layers {}, heads {}, positions {}, act {}, eps {}, "
      "projection {}",
      family_name(family), vocab_size, hidden_size, intermediate_size, num_hidden_layers,
      num_attention_heads, max_position_embeddings, activation_name(hidden_act), layer_norm_eps,
      projection_dim);
}

TextConfig load_text_config(const fs::path& folder, Family family) {
  const fs::path file = folder / "config.json";
  const json root = read_json_object(file);
  TextConfig c;
  c.family = family;
  if (family == Family::kSigLIP) {  // SiglipTextConfig's defaults
    c.vocab_size = 32000;
    c.hidden_size = 768;
    c.intermediate_size = 3072;
    c.num_attention_heads = 12;
    c.max_position_embeddings = 64;
    c.hidden_act = Activation::kGeluTanh;
    c.layer_norm_eps = 1e-6F;
  } else if (family != Family::kCLIP) {
    refuse_config(file, fmt::format("{} has no text tower: text embeddings need a CLIP or SigLIP "
                                    "checkpoint",
                                    family_name(family)));
  }
  // CLIPConfig, like its vision side, takes text_config_dict over text_config when present.
  const auto legacy = root.find("text_config_dict");
  const json& t =
      legacy != root.end() && legacy->is_object() ? *legacy : object_at(root, "text_config");
  if (root.find("text_config") == root.end() && legacy == root.end()) {
    refuse_config(file,
                  "has no text_config: the checkpoint has no text tower (a vision-only "
                  "model?)");
  }
  read_field(t, "vocab_size", c.vocab_size, file);
  read_field(t, "hidden_size", c.hidden_size, file);
  read_field(t, "intermediate_size", c.intermediate_size, file);
  read_field(t, "num_hidden_layers", c.num_hidden_layers, file);
  read_field(t, "num_attention_heads", c.num_attention_heads, file);
  read_field(t, "max_position_embeddings", c.max_position_embeddings, file);
  c.layer_norm_eps = static_cast<float>(read_number(t, "layer_norm_eps", c.layer_norm_eps, file));
  std::string act;
  read_field(t, "hidden_act", act, file);
  if (!act.empty()) c.hidden_act = parse_activation(act, file);
  if (family == Family::kCLIP) {
    read_field(root, "projection_dim", c.projection_dim, file);
  } else {
    c.projection_dim = c.hidden_size;
    read_field(t, "projection_size", c.projection_dim, file);
  }
  const auto positive = [&](int v, const char* key) {
    if (v <= 0 || v > 1 << 20) refuse_config(file, fmt::format("text_config {} is {}", key, v));
  };
  positive(c.vocab_size, "vocab_size");
  positive(c.hidden_size, "hidden_size");
  positive(c.intermediate_size, "intermediate_size");
  positive(c.num_hidden_layers, "num_hidden_layers");
  positive(c.num_attention_heads, "num_attention_heads");
  positive(c.max_position_embeddings, "max_position_embeddings");
  positive(c.projection_dim, "projection_dim");
  if (c.hidden_size % c.num_attention_heads != 0) {
    refuse_config(file, fmt::format("text_config hidden_size {} is not a multiple of "
                                    "num_attention_heads {}",
                                    c.hidden_size, c.num_attention_heads));
  }
  return c;
}

}  // namespace deft::model
