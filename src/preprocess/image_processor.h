#pragma once
// RGB uint8 image → model input (3 × H × W floats, channel-major), as the Hugging Face image
// processors do it: resize with the processor's Pillow filter (straight to a size, or shortest edge
// to a length keeping the aspect ratio), optional center crop (zero-padded first if the image is
// smaller), rescale by 1/255, normalise with per-channel mean and std.
//
//   ProcessorConfig config = ...;                 // from preprocessor_config.json
//   std::vector<float> input(3 * config.input_height() * config.input_width());
//   preprocess_image(image, config, input.data());

#include <array>

#include "preprocess/pillow_resize.h"
#include "preprocess/rgb_image.h"

namespace deft::preprocess {

enum class ResizeMode {
  kToSize,        // SigLIP: straight to height × width, aspect not kept
  kShortestEdge,  // CLIP, DINOv2: shortest edge to `shortest_edge`, long = int(s·long/short)
};

struct ProcessorConfig {
  ResizeMode resize = ResizeMode::kToSize;
  Resample resample = Resample::kBicubic;
  int height = 224;  // kToSize target
  int width = 224;
  int shortest_edge = 224;  // kShortestEdge target
  bool center_crop = false;
  int crop_height = 224;
  int crop_width = 224;
  double rescale_factor = 1.0 / 255.0;  // 1 when the processor does not rescale
  // mean 0 and std 1 when the processor does not normalise
  std::array<float, 3> mean{0.5F, 0.5F, 0.5F};
  std::array<float, 3> std{0.5F, 0.5F, 0.5F};

  int input_height() const;
  int input_width() const;
};

// The resized (and cropped) uint8 image, before rescale/normalise.
RgbImage resize_and_crop(const RgbImage& image, const ProcessorConfig& config);
// Writes 3 × input_height() × input_width() floats to `out`.
void preprocess_image(const RgbImage& image, const ProcessorConfig& config, float* out);

}  // namespace deft::preprocess
