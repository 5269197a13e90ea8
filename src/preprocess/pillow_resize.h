#pragma once
// Pillow's Image.resize(size, filter) on RGB uint8, reproduced bit for bit for every filter a
// Hugging Face processor can name (../shared/specs/encoders.md §5, Pillow
// src/libImaging/Resample.c and Geometry.c). The convolution filters (BOX, BILINEAR, HAMMING,
// BICUBIC, LANCZOS): support × max(scale, 1), coefficients normalised in double then turned
// into 22-bit fixed point (rounded away from zero), horizontal pass first into uint8, then
// vertical; a pass whose size is unchanged is skipped. NEAREST is Pillow's affine scaling.
// Identical bytes to Pillow are what make embeddings match.
//
//   RgbImage small = pillow_resize(image, 224, 224, Resample::kBilinear);

#include <optional>

#include "preprocess/rgb_image.h"

namespace deft::preprocess {

// PIL.Image.Resampling's values, as preprocessor_config.json's "resample" gives them.
enum class Resample {
  kNearest = 0,
  kLanczos = 1,
  kBilinear = 2,
  kBicubic = 3,
  kBox = 4,
  kHamming = 5
};

const char* resample_name(Resample resample);
// The filter a PIL resampling number names; nullopt for a number PIL does not define.
std::optional<Resample> resample_from_pil(int value);

RgbImage pillow_resize(const RgbImage& image, int width, int height, Resample resample);
RgbImage pillow_resize_bicubic(const RgbImage& image, int width, int height);

// The horizontal pass has hand-written AVX2 code, used when the CPU has AVX2, and portable
// code otherwise; tests call this to check the portable code on any machine.
void use_portable_resize(bool portable);

}  // namespace deft::preprocess
