#pragma once
// Pillow's Image.resize(size, BICUBIC) on RGB uint8, reproduced bit for bit
// (../shared/specs/encoders.md §5, Pillow src/libImaging/Resample.c): Keys cubic a = −0.5,
// support 2 × max(scale, 1), coefficients normalised in double then turned into 22-bit fixed
// point (rounded away from zero), horizontal pass first into uint8, then vertical; a pass whose
// size is unchanged is skipped. Identical bytes to Pillow are what make embeddings match.
//
//   RgbImage small = pillow_resize_bicubic(image, 224, 224);

#include "preprocess/rgb_image.h"

namespace deft::preprocess {

RgbImage pillow_resize_bicubic(const RgbImage& image, int width, int height);

// The horizontal pass has hand-written AVX2 code, used when the CPU has AVX2, and portable
// code otherwise; tests call this to check the portable code on any machine.
void use_portable_resize(bool portable);

}  // namespace deft::preprocess
