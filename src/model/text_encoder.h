#pragma once
// The text towers of CLIP and SigLIP checkpoints, on the ViT blocks the image towers use
// (model/vit.h): token + position embeddings, pre-LN blocks, the final LayerNorm, one pooled
// row per text, and the projection into the image features' space.
//   CLIP:   causal attention; pooled at the first end-of-text token (the argmax of the ids in
//           transformers' legacy branch: the end token has the largest id); text_projection
//           (no bias).
//   SigLIP: full attention without a padding mask (as trained); pooled at the last position;
//           text_model.head (with bias).
// Outputs are get_text_features': not normalised.
//
//   auto text = model::TextEncoder::load(folder, model::Family::kCLIP, options);
//   std::vector<float> out = text.encode(ids, n, tokens, end_id);   // n × out_dim()

#include <cstdint>
#include <filesystem>
#include <vector>

#include "model/encoder.h"
#include "model/text_config.h"
#include "model/vit.h"

namespace deft::model {

class TextEncoder {
 public:
  // Reads config.json's text_config and the text_model.* weights of `folder`. Throws
  // Error(kInput) naming the file or tensor.
  static TextEncoder load(const std::filesystem::path& folder, Family family,
                          const EncoderOptions& options = {});

  const TextConfig& config() const { return config_; }
  int out_dim() const { return config_.projection_dim; }
  const char* kernel_name() const;

  // ids: n × tokens token ids (tokens ≤ max_position_embeddings); `end_id`: CLIP's end-of-text
  // token (pooled at its first position; the last position when a text has none). Returns
  // n × out_dim() features. Throws Error(kInput) for an id outside the vocabulary.
  std::vector<float> encode(const std::vector<int32_t>& ids, size_t n, size_t tokens,
                            int32_t end_id) const;

 private:
  TextConfig config_;
  ComputeOptions options_;
  std::vector<float> token_embedding_;     // vocab × hidden
  std::vector<float> position_embedding_;  // positions × hidden
  std::vector<Block> blocks_;
  std::vector<FastBlock> fast_blocks_;
  Norm final_norm_;
  DenseLayer projection_;
};

}  // namespace deft::model
