#include "index/metric.h"

#include <cmath>

#include <fmt/format.h>

#include "common/error.h"

namespace deft::index {

Metric parse_metric(std::string_view name) {
  if (name == "cosine") return Metric::kCosine;
  if (name == "euclidean") return Metric::kEuclidean;
  if (name == "manhattan") return Metric::kManhattan;
  throw Error(ErrorKind::kUsage,
              fmt::format("knn_metric '{}' is not one of cosine, euclidean, manhattan", name));
}

const char* metric_name(Metric metric) {
  switch (metric) {
    case Metric::kCosine:
      return "cosine";
    case Metric::kEuclidean:
      return "euclidean";
    case Metric::kManhattan:
      return "manhattan";
  }
  return "?";
}

double exact_distance(Metric metric, const float* a, const float* b, size_t dim) {
  double sum = 0.0;
  switch (metric) {
    case Metric::kCosine:
      for (size_t i = 0; i < dim; ++i)
        sum += static_cast<double>(a[i]) * static_cast<double>(b[i]);
      return 1.0 - sum;
    case Metric::kEuclidean:
      for (size_t i = 0; i < dim; ++i) {
        const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
        sum += d * d;
      }
      return std::sqrt(sum);
    case Metric::kManhattan:
      for (size_t i = 0; i < dim; ++i)
        sum += std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
      return sum;
  }
  return sum;
}

size_t normalize_rows(float* vectors, size_t rows, size_t dim) {
  for (size_t r = 0; r < rows; ++r) {
    float* v = vectors + r * dim;
    // Four running sums (a fixed order, so every run gives the same bits) let the compiler
    // vectorise this: it is a pass over the whole pool.
    double part[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= dim; i += 4) {
      for (size_t k = 0; k < 4; ++k)
        part[k] += static_cast<double>(v[i + k]) * static_cast<double>(v[i + k]);
    }
    for (; i < dim; ++i)
      part[0] += static_cast<double>(v[i]) * static_cast<double>(v[i]);
    const double norm = std::sqrt((part[0] + part[1]) + (part[2] + part[3]));
    if (!(norm > 0.0) || !std::isfinite(norm)) return r;
    const double inverse = 1.0 / norm;
    for (i = 0; i < dim; ++i)
      v[i] = static_cast<float>(static_cast<double>(v[i]) * inverse);
  }
  return rows;
}

}  // namespace deft::index
