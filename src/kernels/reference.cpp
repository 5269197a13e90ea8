#include "kernels/reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace deft::kernels::reference {

void linear(const float* x, size_t rows, size_t in, const float* w, const float* b, size_t out,
            float* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * in;
    for (size_t o = 0; o < out; ++o) {
      const float* wo = w + o * in;
      float acc = 0.0F;
      for (size_t i = 0; i < in; ++i)
        acc += xr[i] * wo[i];
      y[r * out + o] = acc + (b != nullptr ? b[o] : 0.0F);
    }
  }
}

void layer_norm(const float* x, size_t rows, size_t d, const float* w, const float* b, float eps,
                float* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    double mean = 0.0;
    for (size_t i = 0; i < d; ++i)
      mean += xr[i];
    mean /= static_cast<double>(d);
    double var = 0.0;
    for (size_t i = 0; i < d; ++i)
      var += (xr[i] - mean) * (xr[i] - mean);
    var /= static_cast<double>(d);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (size_t i = 0; i < d; ++i) {
      y[r * d + i] = static_cast<float>((xr[i] - mean) * inv) * w[i] + b[i];
    }
  }
}

void softmax_rows(float* x, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) {
    float* xr = x + r * cols;
    const float max = *std::max_element(xr, xr + cols);
    double sum = 0.0;
    for (size_t i = 0; i < cols; ++i) {
      xr[i] = std::exp(xr[i] - max);
      sum += xr[i];
    }
    const auto inv = static_cast<float>(1.0 / sum);
    for (size_t i = 0; i < cols; ++i)
      xr[i] *= inv;
  }
}

void gelu_tanh(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5F * v * (1.0F + std::tanh(0.7978845608F * (v + 0.044715F * v * v * v)));
  }
}

void gelu_erf(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i)
    x[i] = 0.5F * x[i] * (1.0F + std::erf(x[i] * 0.70710678118654752F));
}

void quick_gelu(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i)
    x[i] = x[i] / (1.0F + std::exp(-1.702F * x[i]));
}

void swiglu(const float* x, size_t rows, size_t h, float* y) {
  for (size_t r = 0; r < rows; ++r) {
    for (size_t j = 0; j < h; ++j) {
      const double gate = x[r * 2 * h + j];
      y[r * h + j] = static_cast<float>(gate / (1.0 + std::exp(-gate)) * x[r * 2 * h + h + j]);
    }
  }
}

void attention(const float* q, size_t tq, const float* k, const float* v, size_t tk, size_t d,
               size_t heads, float* out, bool causal) {
  const size_t hd = d / heads;
  const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  std::vector<float> scores(tq * tk);
  for (size_t h = 0; h < heads; ++h) {
    const size_t c = h * hd;
    for (size_t i = 0; i < tq; ++i) {
      for (size_t j = 0; j < tk; ++j) {
        float acc = 0.0F;
        for (size_t e = 0; e < hd; ++e)
          acc += q[i * d + c + e] * k[j * d + c + e];
        scores[i * tk + j] =
            causal && j > i ? -std::numeric_limits<float>::infinity() : acc * scale;
      }
    }
    softmax_rows(scores.data(), tq, tk);
    for (size_t i = 0; i < tq; ++i) {
      for (size_t e = 0; e < hd; ++e) {
        float acc = 0.0F;
        for (size_t j = 0; j < tk; ++j)
          acc += scores[i * tk + j] * v[j * d + c + e];
        out[i * d + c + e] = acc;
      }
    }
  }
}

}  // namespace deft::kernels::reference
