#pragma once
// Float rows as 8-bit integers for the int8 candidate search: per row x, a scale s and
// q = round(x / s) ∈ [−127, 127] with s = max|x_k| / 127, and, measured in double, what the
// bound needs: the residual |x − s·q| and the norm |s·q|. Then for rows x = a·w + r and
// y = b·v + e, exactly x·y = a·b·(w·v) + (a·w)·e + r·(b·v) + r·e, so by Cauchy–Schwarz
// |x·y − a·b·(w·v)| ≤ |a·w|·|e| + |r|·|b·v| + |r|·|e| — a bound from per-row numbers only.
//
//   Int8Rows t = quantize_rows(targets, count, dim, Int8Offset::kNone);   // weights: signed
//   Int8Rows p = quantize_rows(chunk, rows, dim, Int8Offset::k128);       // unsigned: q + 128

#include <cstddef>
#include <cstdint>
#include <vector>

namespace deft::index {

// kNone: q as signed bytes. k128: q + 128 as unsigned bytes (what a u8 × s8 product takes; the
// product then holds w·v + 128·Σw, and sum lets the caller take 128·Σw off).
enum class Int8Offset { kNone, k128 };

struct Int8Rows {
  std::vector<uint8_t> values;   // rows × dim: int8_t bit patterns (kNone) or q + 128 (k128)
  std::vector<double> scale;     // s per row (0 for a zero row)
  std::vector<double> residual;  // |x − s·q|
  std::vector<double> norm;      // |s·q|
  std::vector<int32_t> sum;      // Σ q
};

// `out` is reused (resized, never shrunk) so that a search quantises chunk after chunk without
// reallocating. Rows are finite (refused earlier otherwise).
void quantize_rows(const float* x, size_t rows, size_t dim, Int8Offset offset, Int8Rows& out);

}  // namespace deft::index
