#include "preprocess/pillow_resize.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include <immintrin.h>

#include "common/error.h"

namespace deft::preprocess {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS

// Pillow's filters (Resample.c), each with its support at scale 1. The float literals in the
// Hamming window are Pillow's own: (double)0.54f is not 0.54, and the taps must round alike.
double box(double x) {
  return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
}

double bilinear(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

double hamming(double x) {
  if (x < 0.0) x = -x;
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * M_PI;
  return std::sin(x) / x * (0.54F + 0.46F * std::cos(x));
}

double bicubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double sinc(double x) {
  if (x == 0.0) return 1.0;
  x = x * M_PI;
  return std::sin(x) / x;
}

double lanczos(double x) {
  return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
}

struct Filter {
  double (*weight)(double);
  double support;
};

Filter filter_of(Resample resample) {
  switch (resample) {
    case Resample::kBox:
      return {box, 0.5};
    case Resample::kBilinear:
      return {bilinear, 1.0};
    case Resample::kHamming:
      return {hamming, 1.0};
    case Resample::kBicubic:
      return {bicubic, 2.0};
    case Resample::kLanczos:
      return {lanczos, 3.0};
    case Resample::kNearest:
      break;
  }
  DEFT_ASSERT(false, "nearest has no convolution filter");
  return {box, 0.5};
}

// For each output position: the first input index, the tap count and the fixed-point weights
// (resample_taps() turned into Pillow's 22-bit integers).
struct Taps {
  int kernel_size = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int> weights;  // out_size × kernel_size, zero-padded
};

Taps precompute(int in_size, int out_size, Resample resample) {
  const ResampleTaps exact = resample_taps(in_size, out_size, resample);
  Taps taps{exact.kernel_size, exact.first, exact.count, std::vector<int>(exact.weights.size(), 0)};
  for (size_t i = 0; i < exact.weights.size(); ++i) {
    const double w = exact.weights[i];
    // Rounded away from zero, as Pillow's normalize_coeffs_8bpc does.
    taps.weights[i] = w < 0 ? static_cast<int>(-0.5 + w * (1 << kPrecisionBits))  // NOLINT
                            : static_cast<int>(0.5 + w * (1 << kPrecisionBits));  // NOLINT
  }
  return taps;
}

uint8_t clip8(int32_t value) {
  return static_cast<uint8_t>(std::clamp(value >> kPrecisionBits, 0, 255));
}

// The arithmetic is Pillow's (int32 sums of uint8 × 22-bit weights), laid out so the compiler
// vectorises it: every inner loop below runs over contiguous bytes that share one weight.
// target_clones adds an AVX2 build of each (32-bit multiplies need SSE4.1 at least), picked at
// load time; the results are the same integers either way.

// The horizontal pass works on strips of kStripRows rows, transposed so that one input column
// of the strip is contiguous: kStripRows pixels of 4 bytes (RGB and one unused), kLanes bytes.
constexpr int kStripRows = 8;
constexpr int kLanes = kStripRows * 4;

// Portable: the compiler vectorises the inner loop as well as the baseline ISA allows.
void filter_strip_generic(const uint8_t* strip, const Taps& taps, int width, uint8_t* out) {
  for (int xx = 0; xx < width; ++xx) {
    const int* k = &taps.weights[static_cast<size_t>(xx) * taps.kernel_size];
    const uint8_t* column = strip + static_cast<ptrdiff_t>(kLanes) * taps.first[xx];
    int32_t sum[kLanes];
    for (int32_t& s : sum)
      s = 1 << (kPrecisionBits - 1);
    for (int x = 0; x < taps.count[xx]; ++x, column += kLanes) {
      for (int l = 0; l < kLanes; ++l)
        sum[l] += column[l] * k[x];
    }
    for (int l = 0; l < kLanes; ++l)
      out[static_cast<ptrdiff_t>(kLanes) * xx + l] = clip8(sum[l]);
  }
}

// AVX2: the strip's 32 lanes as four 8 × int32 sums kept in registers across the taps.
[[gnu::target("avx2")]] void filter_strip_avx2(const uint8_t* strip, const Taps& taps, int width,
                                               uint8_t* out) {
  static_assert(kLanes == 32, "four 8-lane sums");
  const __m256i half = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
  for (int xx = 0; xx < width; ++xx) {
    const int* k = &taps.weights[static_cast<size_t>(xx) * taps.kernel_size];
    const uint8_t* column = strip + static_cast<ptrdiff_t>(kLanes) * taps.first[xx];
    __m256i s0 = half;
    __m256i s1 = half;
    __m256i s2 = half;
    __m256i s3 = half;
    for (int x = 0; x < taps.count[xx]; ++x, column += kLanes) {
      const __m256i w = _mm256_set1_epi32(k[x]);
      // (Lambdas would not inherit the avx2 target, hence the repetition.)
      const auto* c = reinterpret_cast<const __m128i*>(column);
      s0 = _mm256_add_epi32(s0, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(c)), w));
      s1 = _mm256_add_epi32(
          s1, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(
                                     _mm_loadl_epi64(reinterpret_cast<const __m128i*>(column + 8))),
                                 w));
      s2 =
          _mm256_add_epi32(s2, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(c + 1)), w));
      s3 = _mm256_add_epi32(
          s3,
          _mm256_mullo_epi32(
              _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(column + 24))),
              w));
    }
    // clip8: shift, then pack to 16 and 8 bits with saturation (to 0..255, as std::clamp);
    // each pack interleaves 128-bit halves, which the permutes put back in order.
    const __m256i w01 =
        _mm256_permute4x64_epi64(_mm256_packs_epi32(_mm256_srai_epi32(s0, kPrecisionBits),
                                                    _mm256_srai_epi32(s1, kPrecisionBits)),
                                 0xD8);
    const __m256i w23 =
        _mm256_permute4x64_epi64(_mm256_packs_epi32(_mm256_srai_epi32(s2, kPrecisionBits),
                                                    _mm256_srai_epi32(s3, kPrecisionBits)),
                                 0xD8);
    const __m256i bytes = _mm256_permute4x64_epi64(_mm256_packus_epi16(w01, w23), 0xD8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + static_cast<ptrdiff_t>(kLanes) * xx),
                        bytes);
  }
}

std::atomic<bool> portable_only{false};

void filter_strip(const uint8_t* strip, const Taps& taps, int width, uint8_t* out) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2 && !portable_only.load(std::memory_order_relaxed)) {
    filter_strip_avx2(strip, taps, width, out);
  } else {
    filter_strip_generic(strip, taps, width, out);
  }
}

// Rows y0 … y0 + rows − 1 of `in`, transposed into `strip` (kLanes bytes per input column).
// Pixels are copied 4 bytes at a time: the 4th is the next pixel's red, filtered and never
// written out. Each row's last pixel takes 3, since the image may end right after it.
[[gnu::target_clones("avx2", "default")]] void gather_strip(const RgbImage& in, int y0, int rows,
                                                            uint8_t* strip) {
  const uint8_t* src[kStripRows];
  for (int r = 0; r < kStripRows; ++r)
    src[r] = in.row(y0 + std::min(r, rows - 1));  // a short strip repeats its last row
  auto* out = reinterpret_cast<uint32_t*>(strip);
  for (int x = 0; x + 1 < in.width; ++x, out += kStripRows) {
    for (int r = 0; r < kStripRows; ++r)
      std::memcpy(out + r, src[r] + static_cast<ptrdiff_t>(3) * x, 4);
  }
  for (int r = 0; r < kStripRows; ++r)
    std::memcpy(out + r, src[r] + static_cast<ptrdiff_t>(3) * (in.width - 1), 3);
}

RgbImage resize_horizontal(const RgbImage& in, int width, Resample resample) {
  const Taps taps = precompute(in.width, width, resample);
  RgbImage out(width, in.height);
  std::vector<uint8_t> strip(static_cast<size_t>(in.width) * kLanes);
  std::vector<uint8_t> filtered(static_cast<size_t>(width) * kLanes);
  for (int y0 = 0; y0 < in.height; y0 += kStripRows) {
    const int rows = std::min(kStripRows, in.height - y0);
    gather_strip(in, y0, rows, strip.data());
    filter_strip(strip.data(), taps, width, filtered.data());
    for (int r = 0; r < rows; ++r) {
      uint8_t* dst = out.row(y0 + r);
      for (int xx = 0; xx < width; ++xx)
        std::memcpy(dst + 3 * xx, &filtered[static_cast<size_t>(xx) * kLanes + 4 * r], 3);
    }
  }
  return out;
}

// One output row of the vertical pass: `count` input rows, `stride` bytes each, weighted.
[[gnu::target_clones("avx2", "default")]] void filter_rows(const uint8_t* first, size_t stride,
                                                           const int* k, int count, int32_t* sum,
                                                           uint8_t* out) {
  for (size_t i = 0; i < stride; ++i)
    sum[i] = 1 << (kPrecisionBits - 1);
  for (int y = 0; y < count; ++y) {
    const uint8_t* row = first + y * stride;
    const int32_t weight = k[y];
    for (size_t i = 0; i < stride; ++i)
      sum[i] += row[i] * weight;
  }
  for (size_t i = 0; i < stride; ++i)
    out[i] = clip8(sum[i]);
}

RgbImage resize_vertical(const RgbImage& in, int height, Resample resample) {
  const Taps taps = precompute(in.height, height, resample);
  RgbImage out(in.width, height);
  const size_t stride = static_cast<size_t>(in.width) * 3;
  std::vector<int32_t> sum(stride);
  for (int yy = 0; yy < height; ++yy) {
    filter_rows(in.row(taps.first[yy]), stride,
                &taps.weights[static_cast<size_t>(yy) * taps.kernel_size], taps.count[yy],
                sum.data(), out.row(yy));
  }
  return out;
}

// Pillow resizes with NEAREST through an affine scaling transform (Geometry.c,
// ImagingScaleAffine): source coordinates stepped by repeated addition in double, starting half
// a step in, truncated toward zero.
RgbImage resize_nearest(const RgbImage& in, int width, int height) {
  const double step_x = static_cast<double>(in.width) / width;
  const double step_y = static_cast<double>(in.height) / height;
  const auto coord = [](double v) { return v < 0.0 ? -1 : static_cast<int>(v); };
  std::vector<int> source_x(width, -1);
  double x = step_x * 0.5;
  for (int xx = 0; xx < width; ++xx, x += step_x) {
    const int xin = coord(x);
    if (xin >= 0 && xin < in.width) source_x[xx] = xin;
  }
  RgbImage out(width, height);
  std::fill(out.data.begin(), out.data.end(), uint8_t{0});
  double y = step_y * 0.5;
  for (int yy = 0; yy < height; ++yy, y += step_y) {
    const int yin = coord(y);
    if (yin < 0 || yin >= in.height) continue;
    const uint8_t* src = in.row(yin);
    uint8_t* dst = out.row(yy);
    for (int xx = 0; xx < width; ++xx) {
      if (source_x[xx] >= 0) std::memcpy(dst + 3 * xx, src + 3 * source_x[xx], 3);
    }
  }
  return out;
}

}  // namespace

ResampleTaps resample_taps(int in_size, int out_size, Resample resample) {
  const Filter filter = filter_of(resample);
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter.support * filter_scale;
  const double inverse = 1.0 / filter_scale;
  ResampleTaps taps;
  taps.kernel_size = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(static_cast<size_t>(out_size) * taps.kernel_size, 0.0);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    // Pillow's own rounding, (int)(x + 0.5), kept exactly: lround would differ on negatives.
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);               // NOLINT
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;  // NOLINT
    double* k = &taps.weights[static_cast<size_t>(xx) * taps.kernel_size];
    double total = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = filter.weight((x + xmin - center + 0.5) * inverse);
      total += k[x];
    }
    if (total != 0.0) {
      for (int x = 0; x < xmax; ++x)
        k[x] /= total;
    }
    taps.first[xx] = xmin;
    taps.count[xx] = xmax;
  }
  return taps;
}

const char* resample_name(Resample resample) {
  switch (resample) {
    case Resample::kNearest:
      return "nearest";
    case Resample::kLanczos:
      return "lanczos";
    case Resample::kBilinear:
      return "bilinear";
    case Resample::kBicubic:
      return "bicubic";
    case Resample::kBox:
      return "box";
    case Resample::kHamming:
      return "hamming";
  }
  return "?";
}

std::optional<Resample> resample_from_pil(int value) {
  if (value < 0 || value > static_cast<int>(Resample::kHamming)) return std::nullopt;
  return static_cast<Resample>(value);
}

void use_portable_resize(bool portable) {
  portable_only = portable;
}

RgbImage pillow_resize(const RgbImage& image, int width, int height, Resample resample) {
  DEFT_ASSERT(width > 0 && height > 0 && image.width > 0 && image.height > 0,
              "resize needs non-empty sizes");
  const bool horizontal = width != image.width;
  const bool vertical = height != image.height;
  if (!horizontal && !vertical) return image;
  if (resample == Resample::kNearest) return resize_nearest(image, width, height);
  if (horizontal && vertical) {
    return resize_vertical(resize_horizontal(image, width, resample), height, resample);
  }
  if (horizontal) return resize_horizontal(image, width, resample);
  return resize_vertical(image, height, resample);
}

RgbImage pillow_resize_bicubic(const RgbImage& image, int width, int height) {
  return pillow_resize(image, width, height, Resample::kBicubic);
}

}  // namespace deft::preprocess
