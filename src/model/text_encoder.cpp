#include "model/text_encoder.h"

#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "common/error.h"
#include "model/checkpoint.h"

namespace deft::model {

namespace fs = std::filesystem;

TextEncoder TextEncoder::load(const fs::path& folder, Family family,
                              const EncoderOptions& options) {
  TextEncoder t;
  t.config_ = load_text_config(folder, family);
  t.options_ = resolve_compute(options);
  const TextConfig& c = t.config_;
  const Checkpoint checkpoint(folder);
  const WeightReader w(checkpoint, "text_model.");
  t.token_embedding_ = w.tensor("embeddings.token_embedding.weight", {c.vocab_size, c.hidden_size});
  t.position_embedding_ =
      w.tensor("embeddings.position_embedding.weight", {c.max_position_embeddings, c.hidden_size});
  const VisionConfig blocks = c.block_config();
  for (int layer = 0; layer < c.num_hidden_layers; ++layer) {
    Block b = w.block(kClipStyleBlockNames, layer, blocks);
    b.causal = family == Family::kCLIP;
    if (t.options_.reference) {
      t.blocks_.push_back(std::move(b));
    } else {
      t.fast_blocks_.emplace_back(b, blocks, t.options_.precision);
    }
  }
  t.final_norm_ = w.norm("final_layer_norm", c.hidden_size, c.layer_norm_eps);
  Linear projection = family == Family::kCLIP
                          ? WeightReader(checkpoint, "")
                                .linear("text_projection", c.hidden_size, c.projection_dim, false)
                          : w.linear("head", c.hidden_size, c.projection_dim);
  t.projection_ = DenseLayer(std::move(projection), t.options_);
  return t;
}

const char* TextEncoder::kernel_name() const {
  if (options_.reference) return "reference";
  return options_.precision == kernels::Precision::kBF16 ? "onednn-bf16" : "onednn-fp32";
}

std::vector<float> TextEncoder::encode(const std::vector<int32_t>& ids, size_t n, size_t tokens,
                                       int32_t end_id) const {
  const TextConfig& c = config_;
  DEFT_ASSERT(ids.size() == n * tokens, "n × tokens ids");
  DEFT_ASSERT(tokens > 0, "at least one token per text");
  if (n == 0) return {};
  if (tokens > static_cast<size_t>(c.max_position_embeddings)) {
    throw Error(ErrorKind::kInput,
                fmt::format("{} tokens per text, but the text tower has {} positions", tokens,
                            c.max_position_embeddings));
  }
  // The pooled row of each text: CLIP's first end token, else the last position.
  std::vector<size_t> pooled_at(n, tokens - 1);
  if (c.family == Family::kCLIP) {
    for (size_t i = 0; i < n; ++i) {
      const auto* first = ids.data() + i * tokens;
      const auto* end = std::find(first, first + tokens, end_id);
      if (end != first + tokens) pooled_at[i] = static_cast<size_t>(end - first);
    }
  }
  // Causal attention: a row depends on the rows before it only, so CLIP runs each text up to
  // the batch's last pooled row and no further (exact; 77 padded positions for a caption of a
  // dozen tokens are most of the work). SigLIP attends both ways and runs every position.
  const size_t run = c.family == Family::kCLIP
                         ? *std::max_element(pooled_at.begin(), pooled_at.end()) + 1
                         : tokens;
  const auto d = static_cast<size_t>(c.hidden_size);
  std::vector<float> hidden(n * run * d);
  for (size_t i = 0; i < n; ++i) {
    for (size_t t = 0; t < tokens; ++t) {
      const int32_t id = ids[i * tokens + t];
      if (id < 0 || id >= c.vocab_size) {
        throw Error(ErrorKind::kInput, fmt::format("token id {} is outside the text tower's "
                                                   "vocabulary of {}",
                                                   id, c.vocab_size));
      }
      if (t >= run) continue;
      const float* token = token_embedding_.data() + static_cast<size_t>(id) * d;
      const float* position = position_embedding_.data() + t * d;
      float* row = hidden.data() + (i * run + t) * d;
      for (size_t j = 0; j < d; ++j)
        row[j] = token[j] + position[j];
    }
  }
  const VisionConfig blocks = c.block_config();
  if (options_.reference) {
    for (const Block& b : blocks_)
      run_block(b, blocks, hidden.data(), n, run);
  } else {
    // The last block finishes only the pooled rows (its attention still reads every row).
    BlockWorkspace work;
    for (size_t layer = 0; layer < fast_blocks_.size(); ++layer) {
      const bool last = layer + 1 == fast_blocks_.size();
      run_block(fast_blocks_[layer], blocks, hidden.data(), n, run, work,
                last ? std::span<const size_t>(pooled_at) : std::span<const size_t>());
    }
  }
  // LayerNorm is per row: pooling first is the same.
  std::vector<float> pooled(n * d);
  for (size_t i = 0; i < n; ++i)
    std::copy_n(hidden.data() + (i * run + pooled_at[i]) * d, d, pooled.data() + i * d);
  final_norm_.apply(pooled.data(), n, pooled.data());
  std::vector<float> out(n * static_cast<size_t>(out_dim()));
  projection_.apply(pooled.data(), n, out.data());
  return out;
}

}  // namespace deft::model
