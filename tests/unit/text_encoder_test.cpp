// The text towers against an independent PyTorch forward pass (tests/data/generate_text_towers.py,
// float64, written from transformers' modeling_clip.py and modeling_siglip.py), on tiny towers
// whose config.json is the published one with only the text sizes lowered; and text_config
// read from the published configs as transformers' classes read them.
#include "model/text_encoder.h"

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "kernels/onednn_linear.h"
#include "test_support.h"
#include "text/clip_tokenizer.h"
#include "text/gemma_tokenizer.h"
#include "text/siglip_tokenizer.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kData = fs::path(DEFT_SOURCE_DIR) / "tests/data";

struct Kernels {
  const char* name;
  model::EncoderOptions options;
  bool bf16;
};

std::vector<Kernels> kernel_choices() {
  std::vector<Kernels> k = {
      {"reference", {.precision = model::Precision::kF32, .reference_kernels = true}, false},
      {"onednn-fp32", {.precision = model::Precision::kF32}, false}};
  if (kernels::cpu_has_bf16())
    k.push_back({"onednn-bf16", {.precision = model::Precision::kBF16}, true});
  return k;
}

// fp32: max |deft − reference| ≤ 1e-4 × max |reference|; bf16: cosine ≥ 0.999 per text.
void expect_close(const std::vector<float>& got, const std::vector<double>& want, size_t dim,
                  bool bf16, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0;
  for (double v : want)
    scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i * dim < want.size(); ++i) {
    double dot = 0, gg = 0, ww = 0, worst = 0;
    for (size_t j = 0; j < dim; ++j) {
      const double g = got[i * dim + j], w = want[i * dim + j];
      dot += g * w;
      gg += g * g;
      ww += w * w;
      worst = std::max(worst, std::fabs(g - w));
    }
    if (bf16) {
      EXPECT_GE(dot / std::sqrt(gg * ww), 0.999) << what << " text " << i;
    } else {
      EXPECT_LE(worst, 1e-4 * scale) << what << " text " << i;
    }
  }
}

template <typename Tokenizer>
void check_tower(const std::string& family_key, model::Family family, const Tokenizer& tok,
                 int32_t end_id) {
  std::ifstream in(kData / "text/tower_reference.json");
  ASSERT_TRUE(in);
  const nlohmann::json reference = nlohmann::json::parse(in)[family_key];
  const std::vector<std::string> texts = reference["texts"];
  const std::vector<std::vector<int32_t>> ids = reference["ids"];
  const std::vector<std::vector<double>> features = reference["features"];
  std::vector<int32_t> all;
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_EQ(tok.encode(texts[i]), ids[i]) << "tokenizer, text " << i;
    all.insert(all.end(), ids[i].begin(), ids[i].end());
  }
  const size_t tokens = ids[0].size();
  for (const Kernels& k : kernel_choices()) {
    SCOPED_TRACE(k.name);
    const model::TextEncoder encoder =
        model::TextEncoder::load(kData / ("text/" + family_key + "_tower"), family, k.options);
    EXPECT_STREQ(encoder.kernel_name(), k.name);
    const auto dim = static_cast<size_t>(encoder.out_dim());
    std::vector<double> want;
    for (const auto& f : features)
      want.insert(want.end(), f.begin(), f.end());
    // Batch 5, then each text alone (batch 1).
    expect_close(encoder.encode(all, texts.size(), tokens, end_id), want, dim, k.bf16, "batch 5");
    for (size_t i = 0; i < texts.size(); ++i) {
      expect_close(encoder.encode(ids[i], 1, tokens, end_id),
                   std::vector<double>(want.begin() + i * dim, want.begin() + (i + 1) * dim), dim,
                   k.bf16, "batch 1");
    }
  }
}

TEST(TextEncoder, ClipMatchesThePyTorchReference) {
  const auto tok = text::ClipTokenizer::load(kData / "text/clip_tower");
  check_tower("clip", model::Family::kCLIP, tok, tok.end_id());
}

TEST(TextEncoder, SiglipMatchesThePyTorchReference) {
  const auto tok = text::SiglipTokenizer::load(kData / "text/siglip_tower");
  check_tower("siglip", model::Family::kSigLIP, tok, tok.end_id());
}

// SigLIP2: the SigLIP text tower (config from google/siglip2-base-patch16-224, which lists only
// vocab_size) with Gemma's tokenizer.
TEST(TextEncoder, Siglip2MatchesThePyTorchReference) {
  const auto tok = text::GemmaTokenizer::load(kData / "text/siglip2_tower");
  check_tower("siglip2", model::Family::kSigLIP, tok, tok.end_id());
}

// text_config as the hub publishes it: CLIP lists every field; LAION's CLIP only hidden_act
// (the rest are CLIPTextConfig's defaults); SigLIP four fields and SigLIP2 one (the rest
// SiglipTextConfig's: 12 layers, 64 positions, gelu_pytorch_tanh, 1e-6, projection = hidden).
TEST(TextConfig, PublishedConfigsReadAsTransformersReadsThem) {
  testing::ScratchDir dir;
  const auto read = [&](const std::string& name, model::Family family) {
    fs::copy_file(kData / "published" / (name + ".config.json"), dir / "config.json",
                  fs::copy_options::overwrite_existing);
    return model::load_text_config(dir.path(), family);
  };
  const model::TextConfig clip = read("clip-vit-base-patch32", model::Family::kCLIP);
  EXPECT_EQ(clip.describe(),
            "text CLIP: vocab 49408, hidden 512, mlp 2048, layers 12, heads 8, positions 77, act "
            "quick_gelu, eps 1e-05, projection 512");
  const model::TextConfig laion =
      read("laion-CLIP-ViT-B-32-laion2B-s34B-b79K", model::Family::kCLIP);
  EXPECT_EQ(laion.describe(),
            "text CLIP: vocab 49408, hidden 512, mlp 2048, layers 12, heads 8, positions 77, act "
            "gelu_erf, eps 1e-05, projection 512");
  const model::TextConfig siglip = read("siglip-base-patch16-224", model::Family::kSigLIP);
  EXPECT_EQ(
      siglip.describe(),
      "text SigLIP: vocab 32000, hidden 768, mlp 3072, layers 12, heads 12, positions 64, act "
      "gelu_tanh, eps 1e-06, projection 768");
  const model::TextConfig siglip2 = read("siglip2-base-patch16-224", model::Family::kSigLIP);
  EXPECT_EQ(siglip2.vocab_size, 256000);
  EXPECT_EQ(siglip2.max_position_embeddings, 64);
  EXPECT_EQ(siglip2.projection_dim, 768);
  try {
    read("dinov2-small", model::Family::kCLIP);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("has no text_config"));
  }
}

}  // namespace
}  // namespace deft
