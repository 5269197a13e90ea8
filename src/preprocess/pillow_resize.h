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
#include <vector>

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

// The taps of a convolution filter (not kNearest) resizing `in_size` samples to `out_size`, in
// double, before Pillow turns them into fixed point: per output index the first input index,
// the tap count and the weights, normalised to sum 1. PyTorch's F.interpolate with
// antialias=True computes the same taps (aten's _compute_indices_min_size_weights_aa).
struct ResampleTaps {
  int kernel_size = 0;     // weights per output index, zero-padded past `count`
  std::vector<int> first;  // may be negative for taps that clamp at the edge
  std::vector<int> count;
  std::vector<double> weights;  // out_size × kernel_size
};
ResampleTaps resample_taps(int in_size, int out_size, Resample resample);
RgbImage pillow_resize_bicubic(const RgbImage& image, int width, int height);

// The horizontal pass has hand-written AVX2 code, used when the CPU has AVX2, and portable
// code otherwise; tests call this to check the portable code on any machine.
void use_portable_resize(bool portable);

}  // namespace deft::preprocess
