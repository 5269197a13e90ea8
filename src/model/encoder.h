#pragma once
// An image encoder loaded from a checkpoint folder: preprocessed pixels in, embeddings out.
//
//   auto encoder = model::load_encoder(folder, model::Family::kSigLIP);
//   const auto& p = encoder->config().processor;            // input size, mean, std
//   std::vector<float> pixels(n * 3 * p.input_height() * p.input_width());
//   ... preprocess::preprocess_image(image, p, &pixels[i * 3 * h * w]) ...
//   std::vector<float> out(n * encoder->embedding_dim());
//   encoder->encode(pixels.data(), n, out.data());            // raw outputs, not normalised
//
// One file per family (siglip.cpp, clip.cpp, dinov2.cpp) over the shared blocks of vit.h.

#include <filesystem>
#include <memory>

#include "model/activation_dump.h"
#include "model/checkpoint.h"
#include "model/vision_config.h"
#include "model/vit.h"

namespace deft::model {

class Encoder {
 public:
  Encoder(ModelConfig config, ActivationDump dump)
      : config_(std::move(config)), dump_(std::move(dump)) {}
  virtual ~Encoder() = default;
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  const ModelConfig& config() const { return config_; }
  virtual size_t embedding_dim() const = 0;
  // The kernels the loaded model runs on: "reference", "onednn-fp32" or "onednn-bf16".
  virtual const char* kernel_name() const = 0;
  // pixels: n × 3 × input_height × input_width; out: n × embedding_dim(). Thread-compatible:
  // concurrent calls on one encoder are safe (no state changes after loading).
  void encode(const float* pixels, size_t n, float* out) const {
    dump_.begin();
    run(pixels, n, out);
    dump_.write("output", out, n, embedding_dim());
  }

 private:
  // The family's forward pass (one file each).
  virtual void run(const float* pixels, size_t n, float* out) const = 0;

  ModelConfig config_;
  ActivationDump dump_;
};

enum class Precision { kAuto, kF32, kBF16 };

struct EncoderOptions {
  Precision precision = Precision::kAuto;  // kAuto: bf16 where faster (cpu_prefers_bf16)
  bool reference_kernels = false;          // the naive kernels (tests, debugging)
  // Where to write intermediate activations (activation_dump.h); empty: the
  // DEFT_DUMP_ACTIVATIONS environment variable, if set; else off.
  std::filesystem::path dump_directory;
  // With a dump: every block's intermediates too (activation_dump.h); also
  // DEFT_DUMP_INTERMEDIATES=1.
  bool dump_intermediates = false;
};

// The compute options `options` resolve to on this CPU.
ComputeOptions resolve_compute(const EncoderOptions& options);

// Reads config.json, preprocessor_config.json and the weights of `folder` for `family`.
// Throws Error(kInput) for a family mismatch, a missing tensor or a shape that disagrees with
// the config, each naming the file and tensor.
std::unique_ptr<Encoder> load_encoder(const std::filesystem::path& folder, Family family,
                                      const EncoderOptions& options = {});

// The family builders (one file each).
std::unique_ptr<Encoder> make_siglip(const Checkpoint& checkpoint, ModelConfig config,
                                     const ComputeOptions& options, ActivationDump dump);
std::unique_ptr<Encoder> make_clip(const Checkpoint& checkpoint, ModelConfig config,
                                   const ComputeOptions& options, ActivationDump dump);
std::unique_ptr<Encoder> make_dinov2(const Checkpoint& checkpoint, ModelConfig config,
                                     const ComputeOptions& options, ActivationDump dump);

}  // namespace deft::model
