#include "index/int8_rows.h"

#include <algorithm>
#include <cmath>

#include "index/vector_loops.h"

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
    const float largest = largest_magnitude(row, dim);
    const double scale = static_cast<double>(largest) / 127.0;
    const double inverse = largest > 0 ? 127.0 / static_cast<double>(largest) : 0.0;
    double residual = 0, norm = 0;
    out.sum[i] =
        quantize_row(row, dim, scale, inverse, flip, out.values.data() + i * dim, residual, norm);
    out.scale[i] = scale;
    out.residual[i] = std::sqrt(residual);
    out.norm[i] = std::sqrt(norm);
  }
}

}  // namespace deft::index
