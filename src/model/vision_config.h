#pragma once
// config.json of a checkpoint read as transformers' configuration classes read it: the class
// defaults for absent keys, the fields a family derives rather than stores (DINOv2's MLP width
// from mlp_ratio, its SwiGLU width), CLIP's legacy vision_config_dict, SigLIP's
// vision_use_head; plus preprocessor_config.json (processor_config.h).
//
//   model::ModelConfig config = model::load_model_config(folder, model::Family::kCLIP);
//   config.vision.hidden_size;  config.processor.crop_height;

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "preprocess/image_processor.h"

namespace deft::model {

// The built-in families; register_family (families.h) adds ids past these.
enum class Family : int { kSigLIP, kCLIP, kDINOv2 };
enum class Activation { kGeluTanh, kQuickGelu, kGeluErf };
// The block's feed-forward: fc2(act(fc1(x))), or DINOv2-giant's SwiGLU
// weights_out(silu(x1) ⊙ x2) with [x1, x2] = weights_in(x).
enum class FeedForward { kMlp, kSwiGlu };
// How position embeddings are resized to another grid: PyTorch bicubic (a = −0.75), or its
// antialiased variant (a = −0.5, support widened when shrinking) as DINOv2 with registers does.
enum class PositionResize { kBicubic, kBicubicAntialias };

const char* family_name(Family family);
// transformers' ACT2FN names deft runs (gelu_new and gelu_fast are the tanh form); throws
// Error(kInput) naming the file otherwise.
Activation parse_activation(const std::string& name, const std::filesystem::path& file);
const char* activation_name(Activation act);
// A registered family's name or alias, case-insensitive: "SigLIP", "SigLIP2" (the
// fixed-resolution SigLIP2 checkpoints are SigLIP models), "CLIP", "DINOv2"; throws
// Error(kUsage) otherwise.
Family parse_family(std::string_view name);

struct VisionConfig {
  Family family = Family::kSigLIP;
  std::string model_type;  // as the checkpoint says it
  int hidden_size = 768;
  int intermediate_size = 3072;  // the feed-forward's hidden width (SwiGLU: each half's)
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int num_channels = 3;
  int image_size = 224;
  int patch_size = 16;
  Activation hidden_act = Activation::kGeluTanh;
  float layer_norm_eps = 1e-6F;
  int projection_dim = 0;  // CLIP's visual_projection width (used when the weights have one)
  bool use_head = true;    // SigLIP's attention-pooling head
  bool qkv_bias = true;    // DINOv2's qkv_bias
  FeedForward feed_forward = FeedForward::kMlp;
  int register_tokens = 0;  // DINOv2 with registers: tokens between the class token and patches
  PositionResize position_resize = PositionResize::kBicubic;

  // Every field that shapes the forward pass, as one stable line (the encoder fingerprint).
  std::string describe() const;
};

struct ModelConfig {
  VisionConfig vision;
  preprocess::ProcessorConfig processor;
};

// Reads `folder`/config.json (required) and preprocessor_config.json (optional: the family's
// defaults otherwise). Throws Error(kInput) naming the file and key for malformed values and for
// fields that change the maths in ways deft does not reproduce, and when the checkpoint's
// model_type is not of `family` (a mismatch is never loaded silently).
ModelConfig load_model_config(const std::filesystem::path& folder, Family family);

// The built-in families' config readers, for their registry rows (families.cpp).
void read_siglip_config(const nlohmann::json& root, const std::string& model_type,
                        VisionConfig& config, const std::filesystem::path& file);
void read_clip_config(const nlohmann::json& root, const std::string& model_type,
                      VisionConfig& config, const std::filesystem::path& file);
void read_dinov2_config(const nlohmann::json& root, const std::string& model_type,
                        VisionConfig& config, const std::filesystem::path& file);

}  // namespace deft::model
