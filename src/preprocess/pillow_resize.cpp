#include "preprocess/pillow_resize.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace deft::preprocess {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS
constexpr double kBicubicSupport = 2.0;

double bicubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// For each output position: the first input index, the tap count and the fixed-point weights.
struct Taps {
  int kernel_size = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int> weights;  // out_size × kernel_size, zero-padded
};

Taps precompute(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = kBicubicSupport * filter_scale;
  Taps taps;
  taps.kernel_size = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(static_cast<size_t>(out_size) * taps.kernel_size, 0);
  std::vector<double> k(taps.kernel_size);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double inverse = 1.0 / filter_scale;
    // Pillow's own rounding, (int)(x + 0.5), kept exactly: lround would differ on negatives.
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);               // NOLINT
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;  // NOLINT
    double total = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = bicubic((x + xmin - center + 0.5) * inverse);
      total += k[x];
    }
    int* out = &taps.weights[static_cast<size_t>(xx) * taps.kernel_size];
    for (int x = 0; x < xmax; ++x) {
      const double w = total != 0.0 ? k[x] / total : k[x];
      // Rounded away from zero, as Pillow's normalize_coeffs_8bpc does.
      out[x] = w < 0 ? static_cast<int>(-0.5 + w * (1 << kPrecisionBits))  // NOLINT
                     : static_cast<int>(0.5 + w * (1 << kPrecisionBits));  // NOLINT
    }
    taps.first[xx] = xmin;
    taps.count[xx] = xmax;
  }
  return taps;
}

uint8_t clip8(int value) {
  return static_cast<uint8_t>(std::clamp(value >> kPrecisionBits, 0, 255));
}

RgbImage resize_horizontal(const RgbImage& in, int width) {
  const Taps taps = precompute(in.width, width);
  RgbImage out(width, in.height);
  for (int y = 0; y < in.height; ++y) {
    const uint8_t* src = in.row(y);
    uint8_t* dst = out.row(y);
    for (int xx = 0; xx < width; ++xx) {
      const int* k = &taps.weights[static_cast<size_t>(xx) * taps.kernel_size];
      int s0 = 1 << (kPrecisionBits - 1);
      int s1 = s0;
      int s2 = s0;
      const uint8_t* p = src + static_cast<ptrdiff_t>(3) * taps.first[xx];
      for (int x = 0; x < taps.count[xx]; ++x, p += 3) {
        s0 += p[0] * k[x];
        s1 += p[1] * k[x];
        s2 += p[2] * k[x];
      }
      dst[3 * xx + 0] = clip8(s0);
      dst[3 * xx + 1] = clip8(s1);
      dst[3 * xx + 2] = clip8(s2);
    }
  }
  return out;
}

RgbImage resize_vertical(const RgbImage& in, int height) {
  const Taps taps = precompute(in.height, height);
  RgbImage out(in.width, height);
  const size_t stride = static_cast<size_t>(in.width) * 3;
  for (int yy = 0; yy < height; ++yy) {
    const int* k = &taps.weights[static_cast<size_t>(yy) * taps.kernel_size];
    const uint8_t* first = in.row(taps.first[yy]);
    uint8_t* dst = out.row(yy);
    for (size_t i = 0; i < stride; ++i) {
      int s = 1 << (kPrecisionBits - 1);
      const uint8_t* p = first + i;
      for (int y = 0; y < taps.count[yy]; ++y, p += stride)
        s += *p * k[y];
      dst[i] = clip8(s);
    }
  }
  return out;
}

}  // namespace

RgbImage pillow_resize_bicubic(const RgbImage& image, int width, int height) {
  DEFT_ASSERT(width > 0 && height > 0 && image.width > 0 && image.height > 0,
              "resize needs non-empty sizes");
  const bool horizontal = width != image.width;
  const bool vertical = height != image.height;
  if (horizontal && vertical) return resize_vertical(resize_horizontal(image, width), height);
  if (horizontal) return resize_horizontal(image, width);
  if (vertical) return resize_vertical(image, height);
  return image;
}

}  // namespace deft::preprocess
