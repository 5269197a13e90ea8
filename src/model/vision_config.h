#pragma once
// config.json + preprocessor_config.json of a checkpoint, with the class defaults of
// ../shared/specs/encoders.md for missing keys.
//
//   model::ModelConfig config = model::load_model_config(folder, model::Family::kCLIP);
//   config.vision.hidden_size;  config.processor.crop_height;

#include <filesystem>
#include <string>
#include <string_view>

#include "preprocess/image_processor.h"

namespace deft::model {

enum class Family { kSigLIP, kCLIP, kDINOv2 };
enum class Activation { kGeluTanh, kQuickGelu, kGeluErf };

const char* family_name(Family family);
// "SigLIP", "CLIP", "DINOv2" (case-insensitive); throws Error(kUsage) otherwise.
Family parse_family(std::string_view name);

struct VisionConfig {
  Family family = Family::kSigLIP;
  std::string model_type;  // as the checkpoint says it
  int hidden_size = 768;
  int intermediate_size = 3072;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int num_channels = 3;
  int image_size = 224;
  int patch_size = 16;
  Activation hidden_act = Activation::kGeluTanh;
  float layer_norm_eps = 1e-6F;
  int projection_dim = 0;  // CLIP's visual_projection; 0 when there is none
  bool use_head = true;    // SigLIP's attention-pooling head
};

struct ModelConfig {
  VisionConfig vision;
  preprocess::ProcessorConfig processor;
};

// Reads `folder`/config.json (required) and preprocessor_config.json (optional: the family's
// defaults otherwise). Throws Error(kInput) naming the file and key for malformed values, and
// when the checkpoint's model_type is not of `family` (a mismatch is never loaded silently).
ModelConfig load_model_config(const std::filesystem::path& folder, Family family);

}  // namespace deft::model
