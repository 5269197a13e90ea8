#pragma once
// Named intermediate activations written to disk, to find the first layer where an encoder
// diverges from a reference (llama.cpp's habit). Off unless a directory is given
// (EncoderOptions::dump_directory, or the DEFT_DUMP_ACTIVATIONS environment variable).
//
// Each encode() call writes <dir>/<name>.f32 (raw float32, row-major) for: "embeddings" (patch
// + class + positions), "block.<i>" (after block i), "output" (the embeddings returned), and
// rewrites <dir>/index.txt with one "<name> <rows> <cols>" line per tensor. Later calls
// overwrite earlier ones.
//
// Detailed (EncoderOptions::dump_intermediates, or DEFT_DUMP_INTERMEDIATES=1), each block also
// writes its intermediates, as llama.cpp's cb() names them: "block.<i>.ln1", ".q", ".k", ".v"
// (the attention's inputs), ".attention" (heads concatenated, before the output projection),
// ".attn_residual" (the hidden state after the attention's residual add), ".ln2" and
// ".mlp_hidden" (after fc1 and the activation or SwiGLU gate), and the family's head: SigLIP's
// "post_layernorm", "head.k", "head.v", "head.attention", "head.attn_out", "head.ln",
// "head.mlp_hidden"; CLIP's "head.pooled" (the post-LN class rows, before the projection);
// DINOv2's head is its "output". The reference and oneDNN kernels
// write the same names (bf16 buffers widened to float), so the first op whose values diverge
// from a reference is found by name.

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace deft::model {

class ActivationDump {
 public:
  ActivationDump() = default;  // off
  explicit ActivationDump(std::filesystem::path directory, bool intermediates = false);
  bool enabled() const { return state_ != nullptr; }
  bool intermediates() const { return state_ != nullptr && state_->intermediates; }
  // Starts a new encode() call: the index lists only what this call writes.
  void begin() const;
  void write(std::string_view name, const float* data, size_t rows, size_t cols) const;
  // `rows` rows of `cols` values, `stride` values apart, stored as float or as bf16 (uint16).
  void write_strided(std::string_view name, const void* data, bool bf16, size_t rows, size_t cols,
                     size_t stride) const;

 private:
  struct State {
    std::filesystem::path directory;
    bool intermediates = false;
    std::mutex mutex;
    std::vector<std::string> index;
  };
  std::shared_ptr<State> state_;
};

}  // namespace deft::model
