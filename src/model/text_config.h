#pragma once
// The text tower's part of config.json, read as transformers' CLIPTextConfig and
// SiglipTextConfig read it: the class defaults for absent keys (SigLIP's published text_config
// lists four fields; the rest are defaults), CLIP's legacy text_config_dict, and the projection
// width (CLIP: the top-level projection_dim; SigLIP: projection_size, default hidden_size).
//
//   model::TextConfig c = model::load_text_config(folder, model::Family::kCLIP);

#include <filesystem>
#include <string>

#include "model/vision_config.h"

namespace deft::model {

struct TextConfig {
  Family family = Family::kCLIP;
  int vocab_size = 49408;
  int hidden_size = 512;
  int intermediate_size = 2048;
  int num_hidden_layers = 12;
  int num_attention_heads = 8;
  int max_position_embeddings = 77;
  Activation hidden_act = Activation::kQuickGelu;
  float layer_norm_eps = 1e-5F;
  int projection_dim = 512;  // CLIP's text_projection / SigLIP's head output width

  // The fields a transformer block reads, in the vision config's form (run_block takes that).
  VisionConfig block_config() const;
  // Every field that shapes the forward pass, as one stable line (the text fingerprint).
  std::string describe() const;
};

// Throws Error(kInput) naming the file: no text_config (a vision-only checkpoint), a family
// other than CLIP or SigLIP, malformed values.
TextConfig load_text_config(const std::filesystem::path& folder, Family family);

}  // namespace deft::model
