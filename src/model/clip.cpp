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
    const int grid = c.image_size / c.patch_size;
    trunk_ = make_trunk(this->config(), options, std::move(dump));
    trunk_.patch = DenseLayer(w.patch_embedding("embeddings.patch_embedding", c, false), options);
    trunk_.cls = w.tensor("embeddings.class_embedding", {d});
    trunk_.position = interpolate_positions(w.tensor("embeddings.position_embedding.weight",
                                                     {static_cast<int64_t>(grid) * grid + 1, d}),
                                            grid, d, true, trunk_.grid_h, trunk_.grid_w);
    pre_ = w.norm("pre_layrnorm", d, c.layer_norm_eps);
    for (int i = 0; i < c.num_hidden_layers; ++i)
      trunk_.add_block(w.block(kClipStyleBlockNames, i, c));
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
    const size_t tokens = trunk_.tokens();
    std::vector<float> hidden(n * tokens * d);
    trunk_.embed(pixels, n, hidden.data());
    trunk_.normalize(pre_, hidden.data(), n * tokens, hidden.data());
    trunk_.run_blocks(hidden.data(), n, VitTrunk::Output::kClassToken);
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
