// CLIP vision tower (encoders.md §3): patches (no conv bias) after a class token, positions,
// pre_layrnorm, pre-LN blocks with quick_gelu; post_layernorm on the class token only, then
// visual_projection (absent in a plain CLIPVisionModel: the pooled output is the embedding).
#include "model/encoder.h"
#include "model/vit.h"

namespace deft::model {
namespace {

class ClipEncoder final : public Encoder {
 public:
  ClipEncoder(const Checkpoint& checkpoint, ModelConfig config, const ComputeOptions& options,
              ActivationDump dump)
      : Encoder(std::move(config), dump) {
    const VisionConfig& c = this->config().vision;
    const WeightReader w(checkpoint, "vision_model.");
    const WeightReader top(checkpoint, "");
    const int d = c.hidden_size;
    trunk_ = load_trunk(w, this->config(), options, std::move(dump),
                        {.patch = "embeddings.patch_embedding",
                         .patch_bias = false,
                         .class_token = "embeddings.class_embedding",
                         .positions = "embeddings.position_embedding.weight",
                         .blocks = kClipStyleBlockNames});
    pre_ = w.norm("pre_layrnorm", d, c.layer_norm_eps);
    post_ = w.norm("post_layernorm", d, c.layer_norm_eps);
    // CLIPModel and CLIPVisionModelWithProjection: visual_projection [projection_dim, hidden]
    // as the config sizes it; a plain CLIPVisionModel has none (the pooled output is used).
    if (top.has("visual_projection.weight")) {
      projection_ =
          DenseLayer(top.linear("visual_projection", d, c.projection_dim, false), options);
    }
  }

  size_t embedding_dim() const override {
    return static_cast<size_t>(projection_.out() > 0 ? projection_.out()
                                                     : config().vision.hidden_size);
  }

  const char* kernel_name() const override { return trunk_.kernel_name(); }

  void run(const float* pixels, size_t n, float* out) const override {
    const size_t d = static_cast<size_t>(config().vision.hidden_size);
    const std::vector<float> hidden =
        trunk_.forward(pixels, n, VitTrunk::Output::kClassToken, &pre_);
    std::vector<float> pooled(n * d);
    trunk_.normalize_class_rows(post_, hidden.data(), n, pooled.data());
    trunk_.tap("head.pooled", pooled.data(), n, d);
    if (projection_.out() > 0) {
      projection_.apply(pooled.data(), n, out);
    } else {
      std::copy(pooled.begin(), pooled.end(), out);
    }
  }

 private:
  VitTrunk trunk_;
  Norm pre_, post_;
  DenseLayer projection_;  // out() == 0: none
};

}  // namespace

std::unique_ptr<Encoder> make_clip(const Checkpoint& checkpoint, ModelConfig config,
                                   const ComputeOptions& options, ActivationDump dump) {
  return std::make_unique<ClipEncoder>(checkpoint, std::move(config), options, std::move(dump));
}

}  // namespace deft::model
