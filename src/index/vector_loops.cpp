#include "index/vector_loops.h"

#include <algorithm>
#include <cmath>

#define DEFT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

namespace deft::index {

// Four 16-lane partial sums: four independent FMA chains (one would wait on its own latency
// at every step).
DEFT_CLONES float dot_f32(const float* a, const float* b, size_t n) {
  constexpr size_t kLanes = 64;
  float part[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma omp simd
    for (size_t k = 0; k < kLanes; ++k)
      part[k] += a[i + k] * b[i + k];
  }
  float sum = 0;
  for (; i < n; ++i)
    sum += a[i] * b[i];
  for (float p : part)
    sum += p;
  return sum;
}

DEFT_CLONES double squared_norm(const float* x, size_t n) {
  constexpr size_t kLanes = 32;
  double part[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma omp simd
    for (size_t k = 0; k < kLanes; ++k)
      part[k] += static_cast<double>(x[i + k]) * static_cast<double>(x[i + k]);
  }
  double sum = 0;
  for (; i < n; ++i)
    sum += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  for (double p : part)
    sum += p;
  return sum;
}

DEFT_CLONES void mark_candidates(const float* scores, float key, const float* threshold, size_t n,
                                 uint8_t* flags) {
#pragma omp simd
  for (size_t j = 0; j < n; ++j)
    flags[j] = key - 2.0F * scores[j] <= threshold[j] ? 1 : 0;
}

DEFT_CLONES void mark_candidates_int8(const int32_t* product, const int32_t* offset, const float* a,
                                      float b, float key, const float* threshold, size_t n,
                                      uint8_t* flags) {
#pragma omp simd
  for (size_t j = 0; j < n; ++j)
    flags[j] = key - 2.0F * int8_score(product[j], offset[j], a[j], b) <= threshold[j] ? 1 : 0;
}

DEFT_CLONES int32_t quantize_row(const float* x, size_t n, double scale, double inverse,
                                 uint8_t flip, uint8_t* q, double& residual, double& norm) {
  double left_sq = 0, kept_sq = 0;
  int32_t sum = 0;
#pragma omp simd reduction(+ : left_sq, kept_sq, sum)
  for (size_t k = 0; k < n; ++k) {
    const double v = std::clamp(std::nearbyint(static_cast<double>(x[k]) * inverse), -127.0, 127.0);
    const double kept = scale * v;
    const double left = static_cast<double>(x[k]) - kept;
    left_sq += left * left;
    kept_sq += kept * kept;
    const auto value = static_cast<int32_t>(v);
    sum += value;
    q[k] = static_cast<uint8_t>(static_cast<uint8_t>(static_cast<int8_t>(value)) ^ flip);
  }
  residual = left_sq;
  norm = kept_sq;
  return sum;
}

DEFT_CLONES float largest_magnitude(const float* x, size_t n) {
  float largest = 0;
#pragma omp simd reduction(max : largest)
  for (size_t k = 0; k < n; ++k)
    largest = std::max(largest, std::fabs(x[k]));
  return largest;
}

}  // namespace deft::index
