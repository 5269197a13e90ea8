#include "index/int8_rows.h"

#include <algorithm>
#include <cmath>

namespace deft::index {

void quantize_rows(const float* x, size_t rows, size_t dim, Int8Offset offset, Int8Rows& out) {
  out.values.resize(rows * dim);
  out.scale.resize(rows);
  out.residual.resize(rows);
  out.norm.resize(rows);
  out.sum.resize(rows);
  const uint8_t flip =
      offset == Int8Offset::k128 ? 0x80 : 0x00;  // q + 128 on a two's-complement byte
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < rows; ++i) {
    const float* row = x + i * dim;
    uint8_t* q = out.values.data() + i * dim;
    float largest = 0;
    for (size_t k = 0; k < dim; ++k)
      largest = std::max(largest, std::fabs(row[k]));
    const double scale = static_cast<double>(largest) / 127.0;
    const double inverse = largest > 0 ? 127.0 / static_cast<double>(largest) : 0.0;
    double residual = 0, norm = 0;
    int32_t sum = 0;
    for (size_t k = 0; k < dim; ++k) {
      const double v =
          std::clamp(std::nearbyint(static_cast<double>(row[k]) * inverse), -127.0, 127.0);
      const double kept = scale * v;
      const double left = static_cast<double>(row[k]) - kept;
      residual += left * left;
      norm += kept * kept;
      const auto value = static_cast<int32_t>(v);
      sum += value;
      q[k] = static_cast<uint8_t>(static_cast<uint8_t>(static_cast<int8_t>(value)) ^ flip);
    }
    out.scale[i] = scale;
    out.residual[i] = std::sqrt(residual);
    out.norm[i] = std::sqrt(norm);
    out.sum[i] = sum;
  }
}

}  // namespace deft::index
