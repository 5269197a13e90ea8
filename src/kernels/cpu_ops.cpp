#include "kernels/cpu_ops.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/onednn_linear.h"

namespace deft::kernels {

void layer_norm(const float* x, size_t rows, size_t d, const float* w, const float* b, float eps,
                float* y, uint16_t* y_bf16) {
#pragma omp parallel
  {
    std::vector<float> row(d);
#pragma omp for schedule(static)
    for (size_t r = 0; r < rows; ++r) {
      const float* xr = x + r * d;
      // Two passes in float: mean, then the variance of the centred values (no cancellation).
      float sum = 0.0F;
      for (size_t i = 0; i < d; ++i)
        sum += xr[i];
      const float mean = sum / static_cast<float>(d);
      float squares = 0.0F;
      for (size_t i = 0; i < d; ++i)
        squares += (xr[i] - mean) * (xr[i] - mean);
      const float inv = 1.0F / std::sqrt(squares / static_cast<float>(d) + eps);
      float* out = y != nullptr ? y + r * d : row.data();
      for (size_t i = 0; i < d; ++i)
        out[i] = (xr[i] - mean) * inv * w[i] + b[i];
      if (y_bf16 != nullptr) to_bf16(out, d, y_bf16 + r * d);
    }
  }
}

void swiglu(const float* x, size_t rows, size_t h, float* y, uint16_t* y_bf16) {
#pragma omp parallel
  {
    std::vector<float> row(h);
#pragma omp for schedule(static)
    for (size_t r = 0; r < rows; ++r) {
      const float* gate = x + r * 2 * h;
      const float* value = gate + h;
      float* out = y != nullptr ? y + r * h : row.data();
      for (size_t j = 0; j < h; ++j)
        out[j] = gate[j] / (1.0F + std::exp(-gate[j])) * value[j];
      if (y_bf16 != nullptr) to_bf16(out, h, y_bf16 + r * h);
    }
  }
}

}  // namespace deft::kernels
