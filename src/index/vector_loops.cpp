#include "index/vector_loops.h"

#include <algorithm>
#include <cmath>

#include <immintrin.h>

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

namespace portable {

// The rounding in float (q is any integer near x/s; the bound uses the
// residual as measured, so float's choice at a half is as good as double's), then the residual
// and norm from the stored q in double.
DEFT_CLONES int32_t quantize_row(const float* x, size_t n, double scale, double inverse,
                                 uint8_t flip, uint8_t* q, double& residual, double& norm) {
  const auto inverse_f = static_cast<float>(inverse);
  int32_t sum = 0;
#pragma omp simd reduction(+ : sum)
  for (size_t k = 0; k < n; ++k) {
    const float v = std::clamp(std::nearbyint(x[k] * inverse_f), -127.0F, 127.0F);
    const auto value = static_cast<int32_t>(v);
    sum += value;
    q[k] = static_cast<uint8_t>(static_cast<uint8_t>(static_cast<int8_t>(value)) ^ flip);
  }
  double left_sq = 0, kept_sq = 0;
#pragma omp simd reduction(+ : left_sq, kept_sq)
  for (size_t k = 0; k < n; ++k) {
    const auto value = static_cast<int8_t>(static_cast<uint8_t>(q[k] ^ flip));
    const double kept = scale * static_cast<double>(value);
    const double left = static_cast<double>(x[k]) - kept;
    left_sq += left * left;
    kept_sq += kept * kept;
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

DEFT_CLONES void l1_distances(const float* a, size_t na, const float* b, size_t nb, size_t dim,
                              float* out, size_t stride) {
  constexpr size_t kLanes = 16;
  for (size_t i = 0; i < na; ++i) {
    const float* x = a + i * dim;
    for (size_t j = 0; j < nb; ++j) {
      const float* y = b + j * dim;
      float part[kLanes] = {};
      size_t k = 0;
      for (; k + kLanes <= dim; k += kLanes) {
#pragma omp simd
        for (size_t l = 0; l < kLanes; ++l)
          part[l] += std::fabs(x[k + l] - y[k + l]);
      }
      float sum = 0;
      for (; k < dim; ++k)
        sum += std::fabs(x[k] - y[k]);
      for (float p : part)
        sum += p;
      out[i * stride + j] = sum;
    }
  }
}

}  // namespace portable

namespace {

// AVX-512, sixteen at a time: GCC vectorises the portable loops (bytes beside floats and doubles)
// four lanes wide, ~2.7 ns an element; this is the pool's every element on the int8 path.
__attribute__((target("avx512f"))) int32_t quantize_row_avx512(const float* x, size_t n,
                                                               double scale, double inverse,
                                                               uint8_t flip, uint8_t* q,
                                                               double& residual, double& norm) {
  const __m512 inverse_v = _mm512_set1_ps(static_cast<float>(inverse));
  const __m512 low = _mm512_set1_ps(-127.0F), high = _mm512_set1_ps(127.0F);
  const __m512d scale_v = _mm512_set1_pd(scale);
  const __m128i flip_v = _mm_set1_epi8(static_cast<char>(flip));
  __m512i sum_v = _mm512_setzero_si512();
  __m512d left_sq = _mm512_setzero_pd(), kept_sq = _mm512_setzero_pd();
  size_t k = 0;
  for (; k + 16 <= n; k += 16) {
    const __m512 xv = _mm512_loadu_ps(x + k);
    __m512 v = _mm512_roundscale_ps(_mm512_mul_ps(xv, inverse_v),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm512_min_ps(_mm512_max_ps(v, low), high);
    const __m512i value = _mm512_cvtps_epi32(v);
    sum_v = _mm512_add_epi32(sum_v, value);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k),
                     _mm_xor_si128(_mm512_cvtepi32_epi8(value), flip_v));
    for (int half = 0; half < 2; ++half) {
      const __m256 v8 = half == 0
                            ? _mm512_castps512_ps256(v)
                            : _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
      const __m256 x8 = half == 0
                            ? _mm512_castps512_ps256(xv)
                            : _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(xv), 1));
      const __m512d kept = _mm512_mul_pd(scale_v, _mm512_cvtps_pd(v8));
      const __m512d left = _mm512_sub_pd(_mm512_cvtps_pd(x8), kept);
      left_sq = _mm512_add_pd(left_sq, _mm512_mul_pd(left, left));
      kept_sq = _mm512_add_pd(kept_sq, _mm512_mul_pd(kept, kept));
    }
  }
  int32_t sum = _mm512_reduce_add_epi32(sum_v);
  double left_total = _mm512_reduce_add_pd(left_sq), kept_total = _mm512_reduce_add_pd(kept_sq);
  if (k < n) {
    double tail_left = 0, tail_kept = 0;
    sum += portable::quantize_row(x + k, n - k, scale, inverse, flip, q + k, tail_left, tail_kept);
    left_total += tail_left;
    kept_total += tail_kept;
  }
  residual = left_total;
  norm = kept_total;
  return sum;
}

}  // namespace

int32_t quantize_row(const float* x, size_t n, double scale, double inverse, uint8_t flip,
                     uint8_t* q, double& residual, double& norm) {
  static const bool avx512 = __builtin_cpu_supports("avx512f") != 0;
  return avx512 ? quantize_row_avx512(x, n, scale, inverse, flip, q, residual, norm)
                : portable::quantize_row(x, n, scale, inverse, flip, q, residual, norm);
}

namespace {

__attribute__((target("avx512f"))) float largest_magnitude_avx512(const float* x, size_t n) {
  __m512 largest = _mm512_setzero_ps();
  size_t k = 0;
  for (; k + 16 <= n; k += 16)
    largest = _mm512_max_ps(largest, _mm512_abs_ps(_mm512_loadu_ps(x + k)));
  float out = _mm512_reduce_max_ps(largest);
  if (k < n) out = std::max(out, portable::largest_magnitude(x + k, n - k));
  return out;
}

}  // namespace

float largest_magnitude(const float* x, size_t n) {
  static const bool avx512 = __builtin_cpu_supports("avx512f") != 0;
  return avx512 ? largest_magnitude_avx512(x, n) : portable::largest_magnitude(x, n);
}

namespace {

// rows × cols accumulators of 16 lanes: every loaded vector of `a` serves `cols` rows of `b`
// and every one of `b` serves `rows` of `a` (the loads, not the arithmetic, would otherwise
// bound the loop). The last step of a row masks the lanes past `dim` (zeros on both sides).
template <size_t kRows, size_t kCols>
__attribute__((target("avx512f"), always_inline)) inline void l1_tile_avx512(const float* a,
                                                                             const float* b,
                                                                             size_t dim, float* out,
                                                                             size_t stride) {
  __m512 acc[kRows][kCols];
  for (size_t r = 0; r < kRows; ++r) {
    for (size_t c = 0; c < kCols; ++c)
      acc[r][c] = _mm512_setzero_ps();
  }
  for (size_t k = 0; k < dim; k += 16) {
    const __mmask16 mask = k + 16 <= dim
                               ? static_cast<__mmask16>(0xFFFF)
                               : static_cast<__mmask16>((1U << static_cast<unsigned>(dim - k)) - 1);
    __m512 y[kCols];
    for (size_t c = 0; c < kCols; ++c)
      y[c] = _mm512_maskz_loadu_ps(mask, b + c * dim + k);
    for (size_t r = 0; r < kRows; ++r) {
      const __m512 x = _mm512_maskz_loadu_ps(mask, a + r * dim + k);
      for (size_t c = 0; c < kCols; ++c)
        acc[r][c] = _mm512_add_ps(acc[r][c], _mm512_abs_ps(_mm512_sub_ps(x, y[c])));
    }
  }
  // The lanes added through memory (GCC 12 warns falsely inside _mm512_reduce_add_ps).
  alignas(64) float lanes[16];
  for (size_t r = 0; r < kRows; ++r) {
    for (size_t c = 0; c < kCols; ++c) {
      _mm512_store_ps(lanes, acc[r][c]);
      float sum = 0;
      for (float lane : lanes)
        sum += lane;
      out[r * stride + c] = sum;
    }
  }
}

// Rows of `b` in slices of 64 (192 KB at 768 dimensions: they stay in L2 while every row of
// `a` passes over them), then 4 × 4 tiles; the edges in 4 × 1, 1 × 4 and 1 × 1.
__attribute__((target("avx512f"))) void l1_distances_avx512(const float* a, size_t na,
                                                            const float* b, size_t nb, size_t dim,
                                                            float* out, size_t stride) {
  constexpr size_t kSlice = 64;
  for (size_t j0 = 0; j0 < nb; j0 += kSlice) {
    const size_t j1 = std::min(nb, j0 + kSlice);
    size_t i = 0;
    for (; i + 4 <= na; i += 4) {
      size_t j = j0;
      for (; j + 4 <= j1; j += 4)
        l1_tile_avx512<4, 4>(a + i * dim, b + j * dim, dim, out + i * stride + j, stride);
      for (; j < j1; ++j)
        l1_tile_avx512<4, 1>(a + i * dim, b + j * dim, dim, out + i * stride + j, stride);
    }
    for (; i < na; ++i) {
      size_t j = j0;
      for (; j + 4 <= j1; j += 4)
        l1_tile_avx512<1, 4>(a + i * dim, b + j * dim, dim, out + i * stride + j, stride);
      for (; j < j1; ++j)
        l1_tile_avx512<1, 1>(a + i * dim, b + j * dim, dim, out + i * stride + j, stride);
    }
  }
}

}  // namespace

void l1_distances(const float* a, size_t na, const float* b, size_t nb, size_t dim, float* out,
                  size_t stride) {
  static const bool avx512 = __builtin_cpu_supports("avx512f") != 0;
  if (avx512) {
    l1_distances_avx512(a, na, b, nb, dim, out, stride);
  } else {
    portable::l1_distances(a, na, b, nb, dim, out, stride);
  }
}

}  // namespace deft::index
