#pragma once
// What `deft embed` runs on each image: a model encoder (SigLIP, CLIP, DINOv2) with its
// preprocessing, or the weights-free `thumbnail` encoder. Preprocessing runs on the decode
// workers (prepare, thread-safe); the forward pass runs on full batches (embed).
//
//   auto embedder = embed::make_embedder({.family = "CLIP", .model_path = "openai/clip-..."});
//   std::vector<float> input(embedder->input_floats());
//   embedder->prepare(rgb, input.data());                        // any thread
//   embedder->embed(inputs.data(), n, out.data());              // n × dim() floats

#include <memory>
#include <string>

#include "model/fingerprint.h"
#include "preprocess/rgb_image.h"

namespace deft::embed {

class Embedder {
 public:
  virtual ~Embedder() = default;
  // Floats per prepared image.
  virtual size_t input_floats() const = 0;
  virtual size_t dim() const = 0;
  // The size the image is resized to (decoders may shrink on load while staying above it);
  // 0 where shrinking would change the result beyond rounding.
  virtual int target_width() const = 0;
  virtual int target_height() const = 0;
  virtual void prepare(const preprocess::RgbImage& image, float* input) const = 0;
  virtual void embed(const float* inputs, size_t n, float* out) const = 0;
  const model::EncoderFingerprint& fingerprint() const { return fingerprint_; }
  // Records how the job decodes image files (they change the vectors) in the fingerprint.
  void set_decoding(bool shrink_on_load, bool apply_exif_orientation) {
    fingerprint_.shrink_on_load = shrink_on_load && target_width() > 0 && target_height() > 0;
    fingerprint_.exif_orientation = apply_exif_orientation ? "apply" : "ignore";
  }

 protected:
  model::EncoderFingerprint fingerprint_;
};

struct EmbedderOptions {
  std::string family;  // SigLIP, CLIP, DINOv2 or thumbnail
  std::string model_path;
  std::string precision = "auto";  // auto, fp32, bf16
};

// Loads the model (offline: a folder or the local Hugging Face cache). Throws Error.
std::unique_ptr<Embedder> make_embedder(const EmbedderOptions& options);

// The weights-free encoder: the image resized to 16×16 with Pillow's BICUBIC (aspect not
// kept), each sample mapped to (v − 127.5) / 127.5, the 768 values L2-normalised (never zero:
// no sample is 127.5). Near-duplicates land close; it knows nothing of content.
std::unique_ptr<Embedder> make_thumbnail_embedder();
inline constexpr int kThumbnailSide = 16;

}  // namespace deft::embed
