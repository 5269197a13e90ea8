#pragma once
// Multi-head self-attention on oneDNN for n sequences of t tokens: scores = q_h·k_hᵀ·hd^-0.5
// (batched over images and heads, f32), softmax (f32), out_h = p_h·v_h. q, k and v are read in
// place from their [n·t × row_stride] rows (head h = columns [h·hd, (h+1)·hd)), so a fused qkv
// projection can be used without copies; out is written as [n·t × d], heads concatenated.
//
// `causal`: token i attends to tokens 0…i only (CLIP's text tower), the scores above the
// diagonal set to −inf before the softmax.
//
//   OnednnAttention attention(Precision::kBF16, heads, d);
//   attention.apply(qkv, qkv + d, qkv + 2 * d, 3 * d, n, t, out);

#include <cstddef>
#include <memory>

#include "kernels/onednn_linear.h"

namespace deft::kernels {

class OnednnAttention {
 public:
  OnednnAttention(Precision precision, int heads, int d, bool causal = false);
  ~OnednnAttention();
  OnednnAttention(OnednnAttention&&) noexcept;
  OnednnAttention& operator=(OnednnAttention&&) noexcept;

  // q, k, v: element pointers (float or bf16 per precision) with `row_stride` elements between
  // tokens; out: n·t × d in the same precision.
  void apply(const void* q, const void* k, const void* v, size_t row_stride, size_t n, size_t t,
             void* out) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace deft::kernels
