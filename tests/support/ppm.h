#pragma once
// Reads the binary PPM (P6, maxval 255) files the fixture generator writes.

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "preprocess/rgb_image.h"

namespace deft::testing {

inline preprocess::RgbImage read_ppm(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string magic;
  int width = 0;
  int height = 0;
  int maxval = 0;
  in >> magic >> width >> height >> maxval;
  in.get();  // the single whitespace byte before the pixels
  if (!in || magic != "P6" || maxval != 255) throw std::runtime_error("bad PPM " + path.string());
  preprocess::RgbImage image(width, height);
  in.read(reinterpret_cast<char*>(image.data.data()),
          static_cast<std::streamsize>(image.data.size()));
  if (!in) throw std::runtime_error("short PPM " + path.string());
  return image;
}

}  // namespace deft::testing
