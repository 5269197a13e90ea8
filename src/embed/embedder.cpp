#include "embed/embedder.h"

#include <cmath>

#include "common/error.h"
#include "model/encoder.h"
#include "preprocess/image_processor.h"
#include "preprocess/pillow_resize.h"

namespace deft::embed {
namespace {

class ModelEmbedder final : public Embedder {
 public:
  ModelEmbedder(const EmbedderOptions& options) {
    const model::Family family = model::parse_family(options.family);
    const model::ModelLocation where =
        model::resolve_model_path(options.model_path, model::HubEnvironment::from_process());
    model::EncoderOptions encoder_options;
    if (options.precision == "fp32") encoder_options.precision = model::Precision::kF32;
    if (options.precision == "bf16") encoder_options.precision = model::Precision::kBF16;
    encoder_ = model::load_encoder(where.folder, family, encoder_options);
    const model::Checkpoint checkpoint(where.folder);
    const std::string kernel = encoder_->kernel_name();
    fingerprint_ = model::make_fingerprint(where, checkpoint, encoder_->config(),
                                           kernel == "onednn-bf16" ? "bf16" : "fp32",
                                           static_cast<int>(encoder_->embedding_dim()));
  }

  size_t input_floats() const override {
    const auto& p = encoder_->config().processor;
    return static_cast<size_t>(3) * p.input_height() * p.input_width();
  }
  size_t dim() const override { return encoder_->embedding_dim(); }
  int target_width() const override { return target_side(false); }
  int target_height() const override { return target_side(true); }
  void prepare(const preprocess::RgbImage& image, float* input) const override {
    preprocess::preprocess_image(image, encoder_->config().processor, input);
  }
  void embed(const float* inputs, size_t n, float* out) const override {
    encoder_->encode(inputs, n, out);
  }

 private:
  // The resize target (before any crop): the size Pillow's resize writes. 0 (no shrinking)
  // for NEAREST, which picks single pixels: a DCT-shrunk image would give other pixels.
  int target_side(bool height) const {
    const auto& p = encoder_->config().processor;
    if (p.resample == preprocess::Resample::kNearest) return 0;
    if (p.resize == preprocess::ResizeMode::kToSize) return height ? p.height : p.width;
    return p.shortest_edge;  // a lower bound for both sides
  }

  std::unique_ptr<model::Encoder> encoder_;
};

class ThumbnailEmbedder final : public Embedder {
 public:
  ThumbnailEmbedder() {
    fingerprint_.family = "thumbnail";
    fingerprint_.model_id = "thumbnail";
    fingerprint_.weights_digest = "none";
    fingerprint_.preprocessing = "resize 16x16 bicubic(pillow); (v-127.5)/127.5; l2-normalise";
    fingerprint_.input_height = kThumbnailSide;
    fingerprint_.input_width = kThumbnailSide;
    fingerprint_.compute_dtype = "fp32";
    fingerprint_.embedding_dim = static_cast<int>(dim());
    fingerprint_.normalized = true;
    fingerprint_.deft_version = DEFT_VERSION;
  }

  size_t input_floats() const override { return dim(); }
  size_t dim() const override { return 3 * kThumbnailSide * kThumbnailSide; }
  int target_width() const override { return kThumbnailSide; }
  int target_height() const override { return kThumbnailSide; }
  void prepare(const preprocess::RgbImage& image, float* input) const override {
    const preprocess::RgbImage small =
        preprocess::pillow_resize_bicubic(image, kThumbnailSide, kThumbnailSide);
    double sum = 0.0;
    for (size_t i = 0; i < small.data.size(); ++i) {
      const double v = (small.data[i] - 127.5) / 127.5;
      input[i] = static_cast<float>(v);
      sum += v * v;
    }
    const auto scale = static_cast<float>(1.0 / std::sqrt(sum));
    for (size_t i = 0; i < small.data.size(); ++i)
      input[i] *= scale;
  }
  void embed(const float* inputs, size_t n, float* out) const override {
    std::copy(inputs, inputs + n * dim(), out);
  }
};

}  // namespace

std::unique_ptr<Embedder> make_thumbnail_embedder() {
  return std::make_unique<ThumbnailEmbedder>();
}

std::unique_ptr<Embedder> make_embedder(const EmbedderOptions& options) {
  if (options.family == "thumbnail") return make_thumbnail_embedder();
  return std::make_unique<ModelEmbedder>(options);
}

}  // namespace deft::embed
