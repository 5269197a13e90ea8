// SigLIP vision tower (encoders.md §2): patches + positions (no class token), pre-LN blocks,
// post_layernorm on every token, then the attention-pooling head; the embedding is the head's
// output for the probe (hidden_size values, not normalised).
#include <fmt/format.h>

#include "common/error.h"
#include "kernels/reference.h"
#include "model/encoder.h"
#include "model/vit.h"

namespace deft::model {
namespace {

class SiglipEncoder final : public Encoder {
 public:
  SiglipEncoder(const Checkpoint& checkpoint, ModelConfig config, const ComputeOptions& options,
                ActivationDump dump)
      : Encoder(std::move(config), dump) {
    const VisionConfig& c = this->config().vision;
    if (!c.use_head) {
      throw Error(ErrorKind::kInput,
                  "SigLIP checkpoints without the pooling head "
                  "(vision_use_head: false) give no image embedding");
    }
    const WeightReader w(checkpoint, "vision_model.");
    const int d = c.hidden_size;
    trunk_ = load_trunk(w, this->config(), options, std::move(dump),
                        {.patch = "embeddings.patch_embedding",
                         .patch_bias = true,
                         .positions = "embeddings.position_embedding.weight",
                         .blocks = kClipStyleBlockNames});
    post_ = w.norm("post_layernorm", d, c.layer_norm_eps);

    // The head: MultiheadAttention with a packed in_proj (rows q, k, v), then an MLP.
    const std::vector<float> in_w = w.tensor("head.attention.in_proj_weight", {int64_t{3} * d, d});
    const std::vector<float> in_b = w.tensor("head.attention.in_proj_bias", {int64_t{3} * d});
    const auto slice = [&](int part) {
      const auto dd = static_cast<std::ptrdiff_t>(d) * d;
      Linear l{{in_w.begin() + part * dd, in_w.begin() + (part + 1) * dd},
               {in_b.begin() + static_cast<std::ptrdiff_t>(part) * d,
                in_b.begin() + static_cast<std::ptrdiff_t>(part + 1) * d},
               d,
               d};
      return l;
    };
    head_k_ = DenseLayer(slice(1), options);
    head_v_ = DenseLayer(slice(2), options);
    head_out_ = DenseLayer(w.linear("head.attention.out_proj", d, d), options);
    head_norm_ = w.norm("head.layernorm", d, c.layer_norm_eps);
    head_fc1_ = DenseLayer(w.linear("head.mlp.fc1", d, c.intermediate_size), options);
    head_fc2_ = DenseLayer(w.linear("head.mlp.fc2", c.intermediate_size, d), options);
    // The probe's query is the same for every image: computed once.
    const std::vector<float> probe = w.tensor("head.probe", {1, 1, d});
    query_.resize(d);
    slice(0).apply(probe.data(), 1, query_.data());
  }

  size_t embedding_dim() const override { return static_cast<size_t>(config().vision.hidden_size); }

  const char* kernel_name() const override { return trunk_.kernel_name(); }

  void run(const float* pixels, size_t n, float* out) const override {
    const VisionConfig& c = config().vision;
    const size_t d = static_cast<size_t>(c.hidden_size);
    const size_t m = static_cast<size_t>(c.intermediate_size);
    const size_t tokens = trunk_.tokens();
    std::vector<float> hidden = trunk_.forward(pixels, n, VitTrunk::Output::kAllTokens);
    trunk_.normalize(post_, hidden.data(), n * tokens, hidden.data());
    trunk_.tap("post_layernorm", hidden.data(), n * tokens, d);

    // The head: keys and values of every image in one pass, then one query per image.
    std::vector<float> k(n * tokens * d), v(n * tokens * d), a(n * d), pooled(n * d), x(n * d);
    head_k_.apply(hidden.data(), n * tokens, k.data());
    head_v_.apply(hidden.data(), n * tokens, v.data());
    trunk_.tap("head.k", k.data(), n * tokens, d);
    trunk_.tap("head.v", v.data(), n * tokens, d);
    for (size_t i = 0; i < n; ++i) {
      kernels::reference::attention(query_.data(), 1, &k[i * tokens * d], &v[i * tokens * d],
                                    tokens, d, static_cast<size_t>(c.num_attention_heads),
                                    &a[i * d]);
    }
    trunk_.tap("head.attention", a.data(), n, d);
    head_out_.apply(a.data(), n, pooled.data());
    trunk_.tap("head.attn_out", pooled.data(), n, d);
    // y = a + mlp(layernorm(a)): the attention output is not added back to the probe.
    trunk_.normalize(head_norm_, pooled.data(), n, x.data());
    trunk_.tap("head.ln", x.data(), n, d);
    std::vector<float> mid(n * m);
    head_fc1_.apply(x.data(), n, mid.data());
    activate(c.hidden_act, mid.data(), mid.size());
    trunk_.tap("head.mlp_hidden", mid.data(), n, m);
    head_fc2_.apply(mid.data(), n, x.data());
    for (size_t j = 0; j < n * d; ++j)
      out[j] = pooled[j] + x[j];
  }

 private:
  VitTrunk trunk_;
  Norm post_;
  std::vector<float> query_;
  DenseLayer head_k_, head_v_, head_out_, head_fc1_, head_fc2_;
  Norm head_norm_;
};

}  // namespace

std::unique_ptr<Encoder> make_siglip(const Checkpoint& checkpoint, ModelConfig config,
                                     const ComputeOptions& options, ActivationDump dump) {
  return std::make_unique<SiglipEncoder>(checkpoint, std::move(config), options, std::move(dump));
}

}  // namespace deft::model
