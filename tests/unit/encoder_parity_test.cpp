// Embeddings of the tiny SigLIP, CLIP and DINOv2 checkpoints equal an independent PyTorch
// implementation of the Hugging Face forward passes (tests/data/generate_tiny_models.py).
#include <cmath>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "embedding_parity.h"
#include "kernels/onednn_linear.h"
#include "model/encoder.h"
#include "model/vision_config.h"
#include "preprocess/image_processor.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kFixtures = fs::path(DEFT_SOURCE_DIR) / "tests/data/tiny";

nlohmann::json reference() {
  std::ifstream in(kFixtures / "reference.json");
  return nlohmann::json::parse(in);
}

enum class Mode { kReference, kFastF32, kFastBF16 };

model::EncoderOptions options_for(Mode mode) {
  switch (mode) {
    case Mode::kReference:
      return {model::Precision::kF32, true};
    case Mode::kFastF32:
      return {model::Precision::kF32, false};
    case Mode::kFastBF16:
      return {model::Precision::kBF16, false};
  }
  return {};
}

class EncoderParity : public ::testing::TestWithParam<std::tuple<std::string, Mode>> {};

TEST_P(EncoderParity, MatchesThePyTorchReferenceAtBatch1And5) {
  const auto [folder, mode] = GetParam();
  if (mode == Mode::kFastBF16 && !kernels::cpu_has_bf16()) GTEST_SKIP() << "no bf16 on this CPU";
  const nlohmann::json all = reference();
  const nlohmann::json& ref = all["models"][folder];
  const model::Family family = model::parse_family(ref["family"].get<std::string>());
  const auto encoder = model::load_encoder(kFixtures / folder, family, options_for(mode));
  constexpr const char* kKernels[] = {"reference", "onednn-fp32", "onednn-bf16"};
  ASSERT_STREQ(encoder->kernel_name(), kKernels[static_cast<int>(mode)]);
  const auto expected = ref["embeddings"].get<std::map<std::string, std::vector<double>>>();
  ASSERT_EQ(expected.size(), 5U);
  testing::expect_parity(*encoder, expected, mode == Mode::kFastBF16, folder);
}

std::string parity_case_name(const ::testing::TestParamInfo<std::tuple<std::string, Mode>>& info) {
  constexpr const char* kModes[] = {"reference", "onednn_fp32", "onednn_bf16"};
  return std::get<0>(info.param) + "_" + kModes[static_cast<int>(std::get<1>(info.param))];
}

INSTANTIATE_TEST_SUITE_P(
    TinyModels, EncoderParity,
    ::testing::Combine(::testing::Values("siglip", "siglip_bf16", "clip", "clip_f16", "dinov2",
                                         "siglip_48x40", "clip_48x40", "siglip_patch14"),
                       ::testing::Values(Mode::kReference, Mode::kFastF32, Mode::kFastBF16)),
    parity_case_name);

std::string load_error(const fs::path& folder, model::Family family) {
  try {
    model::load_encoder(folder, family);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(EncoderLoading, AFamilyMismatchIsRefused) {
  EXPECT_THAT(load_error(kFixtures / "siglip", model::Family::kCLIP),
              HasSubstr("model is CLIP but the checkpoint in '" + (kFixtures / "siglip").string() +
                        "' is SigLIP (model_type 'siglip')"));
}

TEST(EncoderLoading, AConfigThatDisagreesWithTheWeightsNamesTheTensor) {
  testing::ScratchDir dir;
  for (const char* f : {"model.safetensors", "preprocessor_config.json"}) {
    fs::copy_file(kFixtures / "clip" / f, dir / f);
  }
  nlohmann::json config = nlohmann::json::parse(std::ifstream(kFixtures / "clip/config.json"));
  config["vision_config"]["intermediate_size"] = 48;
  testing::write_text_file(dir / "config.json", config.dump());
  EXPECT_THAT(load_error(dir.path(), model::Family::kCLIP),
              HasSubstr("tensor 'vision_model.encoder.layers.0.mlp.fc1.weight' in '" +
                        (dir / "model.safetensors").string() +
                        "' has shape [64, 32], the config implies [48, 32]"));
}

}  // namespace
}  // namespace deft

namespace deft {
namespace {

TEST(ActivationDump, WritesEveryNamedActivationAndTheOutputReturned) {
  testing::ScratchDir dir;
  model::EncoderOptions options{model::Precision::kF32, false, dir / "dump"};
  const auto encoder = model::load_encoder(kFixtures / "clip", model::Family::kCLIP, options);
  const preprocess::ProcessorConfig& p = encoder->config().processor;
  const size_t input = 3 * static_cast<size_t>(p.input_height()) * p.input_width();
  std::vector<float> pixels(2 * input);
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<float>(i % 17) / 8.0F - 1.0F;
  std::vector<float> out(2 * encoder->embedding_dim());
  encoder->encode(pixels.data(), 2, out.data());

  // Tiny CLIP: 4×4 patches + class = 17 tokens of 32; 2 blocks; 16-wide projection.
  EXPECT_EQ(testing::read_text_file(dir / "dump/index.txt"),
            "embeddings 34 32\nblock.0 34 32\nblock.1 34 32\noutput 2 16\n");
  EXPECT_EQ(fs::file_size(dir / "dump/block.1.f32"), 34U * 32 * 4);
  const std::string output = testing::read_text_file(dir / "dump/output.f32");
  ASSERT_EQ(output.size(), out.size() * sizeof(float));
  EXPECT_EQ(std::memcmp(output.data(), out.data(), output.size()), 0);
}

// The tensor `name` dumped under dir/reference and dir/onednn: same size, values within the
// fp32 parity tolerance (1e-4 of the tensor's scale).
void expect_same_dump(const testing::ScratchDir& dir, const std::string& name) {
  const std::string a = testing::read_text_file(dir / "reference" / (name + ".f32"));
  const std::string b = testing::read_text_file(dir / "onednn" / (name + ".f32"));
  ASSERT_EQ(a.size(), b.size()) << name;
  std::vector<float> x(a.size() / 4), y(b.size() / 4);
  std::memcpy(x.data(), a.data(), a.size());
  std::memcpy(y.data(), b.data(), b.size());
  double scale = 0, worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(x[i])));
    worst = std::max(worst, std::abs(static_cast<double>(x[i]) - y[i]));
  }
  EXPECT_LE(worst, 1e-4 * scale) << name;
}

// Encodes `n` synthetic images with the tiny checkpoint `fixture` in fp32 on the reference
// kernels and on oneDNN, with detailed dumps into dir/reference and dir/onednn.
void dump_on_both_kernels(const testing::ScratchDir& dir, const char* fixture, model::Family family,
                          size_t n) {
  for (const bool reference : {true, false}) {
    model::EncoderOptions options{model::Precision::kF32, reference,
                                  dir / (reference ? "reference" : "onednn")};
    options.dump_intermediates = true;
    const auto encoder = model::load_encoder(kFixtures / fixture, family, options);
    const preprocess::ProcessorConfig& p = encoder->config().processor;
    std::vector<float> pixels(n * 3 * static_cast<size_t>(p.input_height()) * p.input_width());
    for (size_t i = 0; i < pixels.size(); ++i)
      pixels[i] = static_cast<float>(i % 13) / 6.0F - 1.0F;
    std::vector<float> out(n * encoder->embedding_dim());
    encoder->encode(pixels.data(), n, out.data());
  }
}

// Detailed dumps (issue 15, item 6): every block's intermediates under the same names on the
// reference kernels and the oneDNN ones, with the same values (fp32: within the parity
// tolerance), so the first op that diverges is found by name.
TEST(ActivationDump, IntermediatesHaveTheSameNamesAndValuesOnBothKernels) {
  testing::ScratchDir dir;
  dump_on_both_kernels(dir, "clip", model::Family::kCLIP, 2);
  const std::string index = testing::read_text_file(dir / "reference/index.txt");
  EXPECT_EQ(index, testing::read_text_file(dir / "onednn/index.txt"));
  // Tiny CLIP: 34 rows of 32, MLP of 64 (quick_gelu).
  std::string block0;
  for (const char* what : {"ln1", "q", "k", "v", "attention", "attn_residual", "ln2"})
    block0 += fmt::format("block.0.{} 34 32\n", what);
  block0 += "block.0.mlp_hidden 34 64\nblock.0 34 32\n";
  EXPECT_THAT(index, ::testing::HasSubstr("embeddings 34 32\n" + block0));
  for (const char* name : {"block.0.q", "block.0.attention", "block.1.mlp_hidden", "block.1"})
    expect_same_dump(dir, name);
}

// The heads' intermediates too (SigLIP's attention-pooling head: the most ops after the trunk).
TEST(ActivationDump, TheSiglipHeadIsDumpedByNameOnBothKernels) {
  testing::ScratchDir dir;
  dump_on_both_kernels(dir, "siglip", model::Family::kSigLIP, 1);
  const std::string index = testing::read_text_file(dir / "reference/index.txt");
  EXPECT_EQ(index, testing::read_text_file(dir / "onednn/index.txt"));
  for (const char* name : {"post_layernorm", "head.k", "head.v", "head.attention", "head.attn_out",
                           "head.ln", "head.mlp_hidden"}) {
    EXPECT_THAT(index, ::testing::HasSubstr(std::string("\n") + name + " ")) << name;
    expect_same_dump(dir, name);
  }
  EXPECT_THAT(index, ::testing::EndsWith("head.mlp_hidden 1 64\noutput 1 32\n"));
}

}  // namespace
}  // namespace deft
