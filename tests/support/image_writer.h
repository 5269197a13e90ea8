#pragma once
// Writes test images with libvips (an encoder independent of deft's decoding path): random
// pixels of a given size and band count, saved in the format the file extension names.
//
//   testing::write_image(dir / "a.webp", 64, 48, 3, /*seed=*/7);

#include <filesystem>

#include "preprocess/rgb_image.h"

namespace deft::testing {

// bands: 1 (grey), 2 (grey + alpha), 3 (RGB), 4 (RGBA). Extensions: jpg, png, webp, tiff, gif,
// bmp. Smooth gradients plus noise, different for every seed.
void write_image(const std::filesystem::path& path, int width, int height, int bands,
                 unsigned seed);
// Saves exact RGB pixels (lossless formats only: png, tiff, webp lossless, bmp).
void write_rgb_image(const std::filesystem::path& path, const preprocess::RgbImage& image);

}  // namespace deft::testing
