#include "index/metric.h"

#include <algorithm>
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

namespace {

// kLanes rows' sums side by side, each exactly exact_distance's loop. The binary targets plain
// x86-64 (no FMA to contract into), so every product and sum rounds as written.
template <Metric kMetric, size_t kLanes>
void lane_distances(const float* const* a, const float* const* rows, size_t dim, double* out) {
  double sum[kLanes] = {};
  for (size_t i = 0; i < dim; ++i) {
    for (size_t l = 0; l < kLanes; ++l) {
      const auto x = static_cast<double>(a[l][i]);
      const auto y = static_cast<double>(rows[l][i]);
      if constexpr (kMetric == Metric::kCosine) {
        sum[l] += x * y;
      } else if constexpr (kMetric == Metric::kEuclidean) {
        const double d = x - y;
        sum[l] += d * d;
      } else {
        sum[l] += std::fabs(x - y);
      }
    }
  }
  for (size_t l = 0; l < kLanes; ++l) {
    if constexpr (kMetric == Metric::kCosine) {
      out[l] = 1.0 - sum[l];
    } else if constexpr (kMetric == Metric::kEuclidean) {
      out[l] = std::sqrt(sum[l]);
    } else {
      out[l] = sum[l];
    }
  }
}

template <Metric kMetric>
void distances_for(const float* const* a, const float* const* rows, size_t n, size_t dim,
                   double* out) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    lane_distances<kMetric, 8>(a + i, rows + i, dim, out + i);
  if (i + 4 <= n) {
    lane_distances<kMetric, 4>(a + i, rows + i, dim, out + i);
    i += 4;
  }
  if (i + 2 <= n) {
    lane_distances<kMetric, 2>(a + i, rows + i, dim, out + i);
    i += 2;
  }
  if (i < n) lane_distances<kMetric, 1>(a + i, rows + i, dim, out + i);
}

}  // namespace

void exact_distances(Metric metric, const float* const* a, const float* const* rows, size_t n,
                     size_t dim, double* out) {
  switch (metric) {
    case Metric::kCosine:
      return distances_for<Metric::kCosine>(a, rows, n, dim, out);
    case Metric::kEuclidean:
      return distances_for<Metric::kEuclidean>(a, rows, n, dim, out);
    case Metric::kManhattan:
      return distances_for<Metric::kManhattan>(a, rows, n, dim, out);
  }
}

size_t normalize_rows(float* vectors, size_t rows, size_t dim) {
  // Rows side by side on every thread (each row's arithmetic is the same on any thread); the
  // first row that cannot be normalised is the smallest index any thread met.
  size_t first_bad = rows;
  const auto count = static_cast<std::ptrdiff_t>(rows);
#pragma omp parallel for schedule(static) reduction(min : first_bad) if (rows * dim > 65536)
  for (std::ptrdiff_t r = 0; r < count; ++r) {
    float* v = vectors + static_cast<size_t>(r) * dim;
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
    if (!(norm > 0.0) || !std::isfinite(norm)) {
      first_bad = std::min(first_bad, static_cast<size_t>(r));
      continue;
    }
    const double inverse = 1.0 / norm;
    for (i = 0; i < dim; ++i)
      v[i] = static_cast<float>(static_cast<double>(v[i]) * inverse);
  }
  return first_bad;
}

}  // namespace deft::index
