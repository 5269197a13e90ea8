// Checkpoints whose config.json and preprocessor_config.json are the hub's own files (depth
// lowered, widths real; tests/data/published/SOURCES.md) load with the architecture the hub
// model has, and embed as an independent PyTorch implementation of the transformers forward
// passes does (tests/data/generate_published_models.py, run by the CTest fixture
// `published_models` into the build folder), at batch 1 and 5, in fp32 and bf16.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "embedding_parity.h"
#include "kernels/onednn_linear.h"
#include "model/encoder.h"

namespace deft {
namespace {

namespace fs = std::filesystem;

const fs::path kPublished = fs::path(DEFT_BUILD_DIR) / "tests/published";

const nlohmann::json& reference() {
  static const nlohmann::json j =
      nlohmann::json::parse(std::ifstream(kPublished / "reference.json"));
  return j;
}

// What each hub model is, written from the model cards and configuration classes (not read
// back from deft): the family name a user would give, hidden width, feed-forward width, heads,
// model input, embedding width, and the resize filter of its processor.
struct Published {
  const char* folder;
  const char* model;  // the `model` key a user sets
  int hidden, mlp, heads, input, dim;
  preprocess::Resample resample;
  int registers = 0;
  bool swiglu = false;
};

// gtest names the case by its folder rather than by its bytes.
void PrintTo(const Published& published, std::ostream* out) {
  *out << published.folder;
}

using preprocess::Resample;
const Published kPublishedModels[] = {
    {"siglip-base-patch16-224", "SigLIP", 768, 3072, 12, 224, 768, Resample::kBicubic},
    {"siglip-so400m-patch14-384", "SigLIP", 1152, 4304, 16, 384, 1152, Resample::kBicubic},
    {"siglip2-base-patch16-224", "SigLIP2", 768, 3072, 12, 224, 768, Resample::kBilinear},
    {"siglip2-so400m-patch14-384", "SigLIP2", 1152, 4304, 16, 384, 1152, Resample::kBilinear},
    {"clip-vit-base-patch32", "CLIP", 768, 3072, 12, 224, 512, Resample::kBicubic},
    {"clip-vit-large-patch14-336", "CLIP", 1024, 4096, 16, 336, 768, Resample::kBicubic},
    {"laion-clip-vit-b-32", "CLIP", 768, 3072, 12, 224, 512, Resample::kBicubic},
    {"dinov2-small", "DINOv2", 384, 1536, 6, 224, 384, Resample::kBicubic},
    {"dinov2-base", "DINOv2", 768, 3072, 12, 224, 768, Resample::kBicubic},
    {"dinov2-large", "DINOv2", 1024, 4096, 16, 224, 1024, Resample::kBicubic},
    {"dinov2-giant", "DINOv2", 1536, 4096, 24, 224, 1536, Resample::kBicubic, 0, true},
    {"dinov2-with-registers-base", "DINOv2", 768, 3072, 12, 224, 768, Resample::kBicubic, 4},
    {"siglip-base-patch16-224-vision", "SigLIP", 768, 3072, 12, 224, 768, Resample::kBicubic},
    // CLIPVisionModel alone has no visual_projection: the pooled output (768) is the embedding.
    {"clip-vit-base-patch32-vision", "CLIP", 768, 3072, 12, 224, 768, Resample::kBicubic},
    {"dinov2-small-imagenet1k-1-layer", "DINOv2", 384, 1536, 6, 224, 384, Resample::kBicubic},
};

class PublishedCheckpoint
    : public ::testing::TestWithParam<std::tuple<Published, model::Precision>> {};

TEST_P(PublishedCheckpoint, LoadsAsTheHubModelAndMatchesThePyTorchReference) {
  const auto [published, precision] = GetParam();
  const bool bf16 = precision == model::Precision::kBF16;
  if (bf16 && !kernels::cpu_has_bf16()) GTEST_SKIP() << "no bf16 on this CPU";
  const auto encoder = model::load_encoder(kPublished / published.folder,
                                           model::parse_family(published.model), {precision});
  const model::VisionConfig& v = encoder->config().vision;
  EXPECT_EQ(v.hidden_size, published.hidden);
  EXPECT_EQ(v.intermediate_size, published.mlp);
  EXPECT_EQ(v.num_attention_heads, published.heads);
  EXPECT_EQ(v.register_tokens, published.registers);
  EXPECT_EQ(v.feed_forward == model::FeedForward::kSwiGlu, published.swiglu);
  EXPECT_EQ(encoder->config().processor.input_height(), published.input);
  EXPECT_EQ(encoder->config().processor.input_width(), published.input);
  EXPECT_EQ(encoder->config().processor.resample, published.resample);
  EXPECT_EQ(encoder->embedding_dim(), static_cast<size_t>(published.dim));

  const auto expected = reference()["checkpoints"][published.folder]["embeddings"]
                            .get<std::map<std::string, std::vector<double>>>();
  ASSERT_EQ(expected.size(), 5U);
  const testing::ParityFigures figures =
      testing::expect_parity(*encoder, expected, bf16, published.folder);
  RecordProperty("worst_relative_error", std::to_string(figures.worst_relative_error));
  RecordProperty("worst_cosine", std::to_string(figures.worst_cosine));
}

INSTANTIATE_TEST_SUITE_P(
    Hub, PublishedCheckpoint,
    ::testing::Combine(::testing::ValuesIn(kPublishedModels),
                       ::testing::Values(model::Precision::kF32, model::Precision::kBF16)),
    [](const auto& info) {
      std::string name = std::get<0>(info.param).folder;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name + (std::get<1>(info.param) == model::Precision::kBF16 ? "_bf16" : "_fp32");
    });

}  // namespace
}  // namespace deft
