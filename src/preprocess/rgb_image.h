#pragma once
// A decoded image: 8-bit RGB, interleaved, row-major (pixel (x, y) at data[3 * (y * width + x)]).

#include <cstddef>
#include <cstdint>
#include <vector>

namespace deft::preprocess {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> data;

  RgbImage() = default;
  RgbImage(int w, int h) : width(w), height(h), data(static_cast<size_t>(w) * h * 3) {}
  uint8_t* row(int y) { return data.data() + static_cast<size_t>(y) * width * 3; }
  const uint8_t* row(int y) const { return data.data() + static_cast<size_t>(y) * width * 3; }
};

}  // namespace deft::preprocess
