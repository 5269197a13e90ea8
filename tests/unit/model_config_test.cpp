// config.json and preprocessor_config.json read as transformers' configuration and image
// processor classes read them (the rules quoted in src/model/vision_config.cpp and
// processor_config.cpp), on small hand-written files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "model/vision_config.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

model::ModelConfig load(const std::string& config, model::Family family,
                        const std::string& processor = "") {
  testing::ScratchDir dir;
  testing::write_text_file(dir / "config.json", config);
  if (!processor.empty()) testing::write_text_file(dir / "preprocessor_config.json", processor);
  return model::load_model_config(dir.path(), family);
}

std::string error_of(const std::string& config, model::Family family,
                     const std::string& processor = "") {
  try {
    load(config, family, processor);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(ClipConfig, ANullVisionConfigDictIsSkipped) {
  const auto c = load(R"({"model_type": "clip", "vision_config": {"patch_size": 16,
      "image_size": 336}, "vision_config_dict": null})",
                      model::Family::kCLIP);
  EXPECT_EQ(c.vision.patch_size, 16);
  EXPECT_EQ(c.vision.image_size, 336);
  EXPECT_EQ(c.vision.projection_dim, 512);
}

TEST(ClipConfig, ANonNullVisionConfigDictWinsWithTheClassDefaultsForWhatItLacks) {
  // CLIPVisionConfig(**vision_config_dict).to_dict() replaces every vision field.
  const auto c = load(R"({"model_type": "clip", "projection_dim": 768,
      "vision_config": {"patch_size": 14, "image_size": 336, "hidden_size": 1024},
      "vision_config_dict": {"hidden_size": 1024, "intermediate_size": 4096,
                             "num_attention_heads": 16}})",
                      model::Family::kCLIP);
  EXPECT_EQ(c.vision.hidden_size, 1024);
  EXPECT_EQ(c.vision.intermediate_size, 4096);
  EXPECT_EQ(c.vision.patch_size, 32);
  EXPECT_EQ(c.vision.image_size, 224);
  EXPECT_EQ(c.vision.projection_dim, 768);
  const auto empty = load(R"({"model_type": "clip", "vision_config": {"patch_size": 14},
      "vision_config_dict": {}})",
                          model::Family::kCLIP);
  EXPECT_EQ(empty.vision.patch_size, 32);
}

TEST(ClipConfig, LaionGeluAndOpenAiQuickGelu) {
  EXPECT_EQ(load(R"({"model_type": "clip", "vision_config": {"hidden_act": "gelu"}})",
                 model::Family::kCLIP)
                .vision.hidden_act,
            model::Activation::kGeluErf);
  EXPECT_EQ(load(R"({"model_type": "clip"})", model::Family::kCLIP).vision.hidden_act,
            model::Activation::kQuickGelu);
}

TEST(Dinov2Config, TheMlpWidthComesFromMlpRatioAsTransformersComputesIt) {
  EXPECT_EQ(load(R"({"model_type": "dinov2", "hidden_size": 384, "mlp_ratio": 4})",
                 model::Family::kDINOv2)
                .vision.intermediate_size,
            1536);
  // An intermediate_size key is not read by Dinov2Config's model either.
  EXPECT_EQ(load(R"({"model_type": "dinov2", "hidden_size": 384, "intermediate_size": 3072})",
                 model::Family::kDINOv2)
                .vision.intermediate_size,
            1536);
  EXPECT_EQ(load(R"({"model_type": "dinov2", "hidden_size": 384, "mlp_ratio": 2.5})",
                 model::Family::kDINOv2)
                .vision.intermediate_size,
            960);
  const auto giant = load(R"({"model_type": "dinov2", "hidden_size": 1536,
      "num_attention_heads": 24, "use_swiglu_ffn": true})",
                          model::Family::kDINOv2);
  EXPECT_EQ(giant.vision.feed_forward, model::FeedForward::kSwiGlu);
  EXPECT_EQ(giant.vision.intermediate_size, 4096);  // (int(6144 · 2/3) + 7) // 8 · 8
  const auto registers = load(R"({"model_type": "dinov2_with_registers"})", model::Family::kDINOv2);
  EXPECT_EQ(registers.vision.register_tokens, 4);
  EXPECT_EQ(registers.vision.position_resize, model::PositionResize::kBicubicAntialias);
  EXPECT_EQ(registers.vision.image_size, 224);  // the class default; hub files say 518
}

TEST(ModelConfig, FieldsThatChangeTheMathsAndAreNotReproducedAreErrorsNamingThem) {
  EXPECT_THAT(error_of(R"({"model_type": "siglip", "vision_config": {"vision_use_head": false}})",
                       model::Family::kSigLIP),
              HasSubstr("vision_use_head is false"));
  EXPECT_THAT(error_of(R"({"model_type": "clip", "vision_config": {"hidden_act": "relu"}})",
                       model::Family::kCLIP),
              HasSubstr("hidden_act 'relu' is not supported"));
  EXPECT_THAT(error_of(R"({"model_type": "siglip2"})", model::Family::kSigLIP),
              HasSubstr("NaFlex SigLIP2"));
  EXPECT_THAT(error_of(R"({"model_type": "dinov2", "num_channels": 1})", model::Family::kDINOv2),
              HasSubstr("num_channels 1"));
  EXPECT_EQ(model::parse_family("SigLIP2"), model::Family::kSigLIP);
  EXPECT_EQ(model::parse_family("siglip2"), model::Family::kSigLIP);
}

constexpr const char* kSiglip = R"({"model_type": "siglip"})";

TEST(ProcessorConfig, LegacyIntSizesAndEveryDoSwitch) {
  const auto legacy = load(R"({"model_type": "clip"})", model::Family::kCLIP,
                           R"({"feature_extractor_type": "CLIPFeatureExtractor", "size": 336,
                               "crop_size": 336, "do_center_crop": true, "resample": 3})");
  EXPECT_EQ(legacy.processor.resize, preprocess::ResizeMode::kShortestEdge);
  EXPECT_EQ(legacy.processor.shortest_edge, 336);
  EXPECT_EQ(legacy.processor.crop_height, 336);
  EXPECT_EQ(legacy.processor.crop_width, 336);
  EXPECT_NEAR(legacy.processor.rescale_factor, 1.0 / 255, 1e-12);  // the class default

  const auto siglip2 = load(kSiglip, model::Family::kSigLIP,
                            R"({"image_processor_type": "SiglipImageProcessor", "resample": 2,
                                "size": {"height": 224, "width": 224}, "do_convert_rgb": null})");
  EXPECT_EQ(siglip2.processor.resample, preprocess::Resample::kBilinear);
  EXPECT_FALSE(siglip2.processor.center_crop);

  const auto raw = load(kSiglip, model::Family::kSigLIP,
                        R"({"image_processor_type": "SiglipImageProcessor", "do_rescale": false,
                            "do_normalize": false, "size": {"height": 32, "width": 48}})");
  EXPECT_EQ(raw.processor.rescale_factor, 1.0);
  EXPECT_EQ(raw.processor.mean, (std::array<float, 3>{0, 0, 0}));
  EXPECT_EQ(raw.processor.std, (std::array<float, 3>{1, 1, 1}));
  EXPECT_EQ(raw.processor.input_height(), 32);
  EXPECT_EQ(raw.processor.input_width(), 48);

  const auto vit = load(kSiglip, model::Family::kSigLIP,
                        R"({"image_processor_type": "ViTImageProcessor", "size": 256})");
  EXPECT_EQ(vit.processor.resize, preprocess::ResizeMode::kToSize);
  EXPECT_EQ(vit.processor.height, 256);
  EXPECT_EQ(vit.processor.resample, preprocess::Resample::kBilinear);
}

TEST(ProcessorConfig, WhatWouldChangeThePixelsAndIsNotReproducedIsAnError) {
  const auto error = [](const std::string& processor) {
    return error_of(kSiglip, model::Family::kSigLIP, processor);
  };
  EXPECT_THAT(error(R"({"resample": 7})"), HasSubstr("resample 7 is not a PIL filter"));
  EXPECT_THAT(error(R"({"do_resize": false})"), HasSubstr("do_resize false"));
  EXPECT_THAT(error(R"({"image_processor_type": "ConvNextImageProcessor"})"),
              HasSubstr("image processor 'ConvNextImageProcessor' is not one deft reproduces"));
  EXPECT_THAT(error(R"({"size": {"longest_edge": 224}})"), HasSubstr("'size' has 'longest_edge'"));
  EXPECT_THAT(error(R"({"image_processor_type": "SiglipImageProcessor", "size": 224})"),
              HasSubstr("'size' must be {\"height\", \"width\"}"));
  EXPECT_THAT(error(R"({"image_mean": [0.5, 0.5]})"), HasSubstr("'image_mean' needs 3 values"));
}

}  // namespace
}  // namespace deft
