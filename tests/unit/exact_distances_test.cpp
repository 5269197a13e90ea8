// index::exact_distances (eight pairs side by side) against exact_distance's definition
// written out here: a double sum over the stored floats,
// element by element in order. Equal bit for bit, for every metric, every row count 1…19
// (full groups of eight, the 4/2/1 tails, a padded last group), odd dimensions, and values
// whose products lose bits to rounding (so a fused multiply-add or a reordered sum would show).
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "index/metric.h"

namespace deft {
namespace {

using index::Metric;

double written_out(Metric metric, const float* a, const float* b, size_t dim) {
  double sum = 0;
  for (size_t k = 0; k < dim; ++k) {
    const auto x = static_cast<double>(a[k]), y = static_cast<double>(b[k]);
    if (metric == Metric::kCosine) {
      sum += x * y;
    } else if (metric == Metric::kEuclidean) {
      sum += (x - y) * (x - y);
    } else {
      sum += std::fabs(x - y);
    }
  }
  return metric == Metric::kCosine      ? 1.0 - sum
         : metric == Metric::kEuclidean ? std::sqrt(sum)
                                        : sum;
}

TEST(ExactDistances, EqualTheElementByElementDoubleSumBitForBit) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(-3.F, 3.F);
  for (size_t dim : {1, 7, 768, 1025}) {
    std::vector<float> a(dim);
    for (float& x : a)
      x = value(rng) * (1.0F + 1e-7F * static_cast<float>(rng() % 1000));
    std::vector<std::vector<float>> rows(19, std::vector<float>(dim));
    for (auto& row : rows)
      for (float& x : row)
        x = value(rng) / 3.0F;
    for (Metric metric : {Metric::kCosine, Metric::kEuclidean, Metric::kManhattan}) {
      for (size_t n = 1; n <= rows.size(); ++n) {
        std::vector<const float*> pointers, same_a;
        for (size_t i = 0; i < n; ++i) {
          pointers.push_back(rows[i].data());
          same_a.push_back(a.data());
        }
        std::vector<double> got(n);
        index::exact_distances(metric, same_a.data(), pointers.data(), n, dim, got.data());
        for (size_t i = 0; i < n; ++i) {
          const double want = written_out(metric, a.data(), rows[i].data(), dim);
          ASSERT_EQ(got[i], want) << index::metric_name(metric) << " dim " << dim << " n " << n
                                  << " row " << i;
          ASSERT_EQ(index::exact_distance(metric, a.data(), rows[i].data(), dim), want);
        }
        // Pairs with different first vectors (rows against rows, shifted by one).
        std::vector<const float*> others;
        for (size_t i = 0; i < n; ++i)
          others.push_back(rows[(i + 1) % rows.size()].data());
        index::exact_distances(metric, others.data(), pointers.data(), n, dim, got.data());
        for (size_t i = 0; i < n; ++i)
          ASSERT_EQ(got[i], written_out(metric, others[i], rows[i].data(), dim)) << "pair " << i;
      }
    }
  }
}

}  // namespace
}  // namespace deft
