#pragma once
// The bounded search's inner loops, each compiled for AVX-512, AVX2 and plain x86-64 and picked
// when deft loads (the binary itself targets plain x86-64). None of them is an exact distance:
// their sums go in whatever order the lanes give, and each caller's error bound holds for any
// order (Higham §3.1: |ŝ − a·b| ≤ γ_d Σ|a_k b_k|).

#include <cstddef>
#include <cstdint>

namespace deft::index {

// Σ a_k b_k in fp32.
float dot_f32(const float* a, const float* b, size_t n);
// Σ x_k² in double (relative error ≤ n·2⁻⁵³).
double squared_norm(const float* x, size_t n);
// flags[j] = 1 where key − 2·scores[j] ≤ threshold[j], else 0: which targets a pool row (its
// key, its row of scores) may join.
void mark_candidates(const float* scores, float key, const float* threshold, size_t n,
                     uint8_t* flags);
// The same for int8 products (a u8 × s8 matmul's row, holding w·v + 128·Σw per target): the
// score is b·(a[j]·(product[j] − offset[j])) in float, offset[j] = 128·Σw_j — the same value,
// bit for bit, as int8_score below.
void mark_candidates_int8(const int32_t* product, const int32_t* offset, const float* a, float b,
                          float key, const float* threshold, size_t n, uint8_t* flags);
inline float int8_score(int32_t product, int32_t offset, float a, float b) {
  return b * (a * static_cast<float>(product - offset));
}
// q[k] = round(x[k]·inverse) clamped to ±127 (ties to even), as bytes XOR `flip`; returns
// Σ q, and |x − scale·q|², |scale·q|² in `residual`, `norm` (double).
int32_t quantize_row(const float* x, size_t n, double scale, double inverse, uint8_t flip,
                     uint8_t* q, double& residual, double& norm);
// max |x_k|.
float largest_magnitude(const float* x, size_t n);
// out[i·stride + j] = Σ_k |a_i,k − b_j,k| in fp32 for na rows of `a` against nb rows of `b`
// (each `dim` floats, row after row): a tile of Manhattan distances.
void l1_distances(const float* a, size_t na, const float* b, size_t nb, size_t dim, float* out,
                  size_t stride);

// The loops above without the AVX-512 versions they use where the CPU has them (tests hold the
// two to each other).
namespace portable {
int32_t quantize_row(const float* x, size_t n, double scale, double inverse, uint8_t flip,
                     uint8_t* q, double& residual, double& norm);
float largest_magnitude(const float* x, size_t n);
void l1_distances(const float* a, size_t na, const float* b, size_t nb, size_t dim, float* out,
                  size_t stride);
}  // namespace portable

}  // namespace deft::index
