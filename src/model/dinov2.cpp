// DINOv2 (encoders.md §4): patches (conv with bias) after a class token; position embeddings
// always interpolated to the input grid (PyTorch bicubic, size=(grid_h, grid_w) as current
// transformers does; antialiased for the register variant); pre-LN blocks with exact-erf GELU
// (or giant's SwiGLU) and layer scale; the final layernorm's class token is the embedding.
// Dinov2WithRegisters puts its register tokens between the class token and the patches, after
// the positions are added.
#include "model/encoder.h"
#include "model/vit.h"

namespace deft::model {
namespace {

const BlockNames kNames = {"encoder.layer.{}.norm1",
                           "encoder.layer.{}.attention.attention.query",
                           "encoder.layer.{}.attention.attention.key",
                           "encoder.layer.{}.attention.attention.value",
                           "encoder.layer.{}.attention.output.dense",
                           "encoder.layer.{}.norm2",
                           "encoder.layer.{}.mlp.fc1",
                           "encoder.layer.{}.mlp.fc2",
                           "encoder.layer.{}.layer_scale1.lambda1",
                           "encoder.layer.{}.layer_scale2.lambda1"};

// Dinov2SwiGLUFFN names its two projections weights_in / weights_out.
BlockNames names_for(const VisionConfig& c) {
  BlockNames names = kNames;
  if (c.feed_forward == FeedForward::kSwiGlu) {
    names.fc1 = "encoder.layer.{}.mlp.weights_in";
    names.fc2 = "encoder.layer.{}.mlp.weights_out";
  }
  return names;
}

class Dinov2Encoder final : public Encoder {
 public:
  Dinov2Encoder(const Checkpoint& checkpoint, ModelConfig config, const ComputeOptions& options,
                ActivationDump dump)
      : Encoder(std::move(config), dump) {
    const VisionConfig& c = this->config().vision;
    // Classification checkpoints keep the backbone under "dinov2.".
    const WeightReader w(
        checkpoint, checkpoint.find("dinov2.embeddings.cls_token") != nullptr ? "dinov2." : "");
    const int d = c.hidden_size;
    trunk_ = load_trunk(w, this->config(), options, std::move(dump),
                        {.patch = "embeddings.patch_embeddings.projection",
                         .patch_bias = true,
                         .class_token = "embeddings.cls_token",
                         .registers = "embeddings.register_tokens",
                         .positions = "embeddings.position_embeddings",
                         .batch_dim = true,
                         .blocks = names_for(c)});
    final_ = w.norm("layernorm", d, c.layer_norm_eps);
  }

  size_t embedding_dim() const override { return static_cast<size_t>(config().vision.hidden_size); }

  const char* kernel_name() const override { return trunk_.kernel_name(); }

  void run(const float* pixels, size_t n, float* out) const override {
    const std::vector<float> hidden = trunk_.forward(pixels, n, VitTrunk::Output::kClassToken);
    trunk_.normalize_class_rows(final_, hidden.data(), n, out);
  }

 private:
  VitTrunk trunk_;
  Norm final_;
};

}  // namespace

std::unique_ptr<Encoder> make_dinov2(const Checkpoint& checkpoint, ModelConfig config,
                                     const ComputeOptions& options, ActivationDump dump) {
  return std::make_unique<Dinov2Encoder>(checkpoint, std::move(config), options, std::move(dump));
}

}  // namespace deft::model
