#pragma once
// The encoder's non-matmul ops, fast versions: rows in parallel (OpenMP), float math the
// compiler vectorises. Tested against kernels/reference.h.

#include <cstddef>
#include <cstdint>

namespace deft::kernels {

// LayerNorm of each row of x[rows × d] into y, as float (y_bf16 == nullptr) or bf16 (y == nullptr).
void layer_norm(const float* x, size_t rows, size_t d, const float* w, const float* b, float eps,
                float* y, uint16_t* y_bf16);

// SwiGLU's gate: y[r, j] = silu(x[r, j]) · x[r, h + j] for x[rows × 2h], as float
// (y_bf16 == nullptr) or bf16 (y == nullptr).
void swiglu(const float* x, size_t rows, size_t h, float* y, uint16_t* y_bf16);

}  // namespace deft::kernels
