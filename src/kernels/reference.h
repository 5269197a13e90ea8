#pragma once
// Naive reference kernels: the ground truth every fast kernel is tested against, and the path
// used where no fast kernel exists. Row-major throughout: x[i * cols + j]. fp32, accumulating
// in double where a sum runs over a whole row (LayerNorm statistics, softmax normaliser).

#include <cstddef>

namespace deft::kernels::reference {

// y[rows × out] = x[rows × in] · wᵀ + b, with w stored [out × in] (PyTorch's Linear layout);
// b may be null.
void linear(const float* x, size_t rows, size_t in, const float* w, const float* b, size_t out,
            float* y);

// Each row of x[rows × d]: (x − mean) / sqrt(var + eps) · w + b (biased variance).
void layer_norm(const float* x, size_t rows, size_t d, const float* w, const float* b, float eps,
                float* y);

// In place, each row of x[rows × cols]: softmax (max-subtracted).
void softmax_rows(float* x, size_t rows, size_t cols);

// In place over n values.
void gelu_tanh(float* x, size_t n);   // 0.5x(1 + tanh(0.7978845608(x + 0.044715x³)))
void gelu_erf(float* x, size_t n);    // 0.5x(1 + erf(x/√2))
void quick_gelu(float* x, size_t n);  // x · sigmoid(1.702x)
// y[r, j] = silu(x[r, j]) · x[r, h + j] for x[rows × 2h] (SwiGLU's gate; silu = x · sigmoid(x)).
void swiglu(const float* x, size_t rows, size_t h, float* y);

// Multi-head attention for one sequence: q[tq × d], k and v [tk × d], heads of d / heads
// columns each (head h = columns [h·hd, (h+1)·hd)); out[tq × d] = concat_h softmax(q_h k_hᵀ ·
// hd^-0.5) v_h. `causal`: query i sees keys 0…i only (CLIP's text tower).
void attention(const float* q, size_t tq, const float* k, const float* v, size_t tk, size_t d,
               size_t heads, float* out, bool causal = false);

}  // namespace deft::kernels::reference
