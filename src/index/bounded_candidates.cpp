#include "index/bounded_candidates.h"

#include <algorithm>
#include <cmath>
#include <span>

#include <omp.h>

#include "common/error.h"

namespace deft::index {

namespace {

constexpr double kUnit = 0x1p-24;  // u: the unit roundoff of float
// What the bound leaves to double arithmetic: exact_distance's own rounding, |q|² and |p|² in
// double, the worst distance squared (relative and absolute, far above 2⁻⁵³ × d).
constexpr double kDoubleSlack = 1e-12;
constexpr size_t kScanStep = 64;  // keys compared per any-hit test

// The smallest float ≥ x.
float float_at_least(double x) {
  if (std::isinf(x))
    return x > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  const auto f = static_cast<float>(x);
  return static_cast<double>(f) >= x ? f
                                     : std::nextafter(f, std::numeric_limits<float>::infinity());
}

}  // namespace

BoundedCandidates::BoundedCandidates(Metric metric, const float* targets, size_t count, size_t dim)
    : metric_(metric), dim_(dim), count_(count) {
  DEFT_ASSERT(metric != Metric::kManhattan, "manhattan has no inner-product bound");
  const double du = static_cast<double>(dim) * kUnit;
  gamma_ = du / (1.0 - du);
  norms_.resize(count);
  for (size_t t = 0; t < count; ++t) {
    double sum = 0;
    for (size_t k = 0; k < dim; ++k)
      sum += static_cast<double>(targets[t * dim + k]) * targets[t * dim + k];
    norms_[t] = std::sqrt(sum);
  }
  for (size_t t0 = 0; t0 < count; t0 += kTargetChunk) {
    const size_t n = std::min(kTargetChunk, count - t0);
    packed_.emplace_back(std::span<const float>(targets + t0 * dim, n * dim),
                         std::span<const float>(), static_cast<int>(dim), static_cast<int>(n),
                         kernels::Precision::kF32);
  }
  scores_.resize(kPoolChunk * std::min(kTargetChunk, count));
  threshold_.resize(std::min(kTargetChunk, count));
  thread_hits_.resize(static_cast<size_t>(std::max(1, omp_get_max_threads())));
}

void BoundedCandidates::find(const float* vectors, size_t rows, const std::vector<double>& worst,
                             const std::vector<size_t>& missing, std::vector<Hit>& hits) {
  DEFT_ASSERT(rows <= kPoolChunk, "a chunk at a time");
  hits.clear();
  if (rows == 0 || count_ == 0) return;
  const bool euclidean = metric_ == Metric::kEuclidean;
  // Per pool row: |p|² (the euclidean key's first term, 0 for cosine) and the largest |p|.
  keys_.resize(rows);
  double max_sq = 0;
  for (size_t i = 0; i < rows; ++i) {
    double sum = 0;
    const float* p = vectors + i * dim_;
    for (size_t k = 0; k < dim_; ++k)
      sum += static_cast<double>(p[k]) * p[k];
    max_sq = std::max(max_sq, sum);
    keys_[i] = euclidean ? static_cast<float>(sum) : 0.0F;
  }
  const double pmax = std::sqrt(max_sq);
  std::vector<float> column;
  for (size_t chunk = 0; chunk < packed_.size(); ++chunk) {
    const size_t t0 = chunk * kTargetChunk;
    const size_t mt = std::min(kTargetChunk, count_ - t0);
    packed_[chunk].apply(vectors, rows, scores_.data());  // rows × mt: ŝ
    const float* s = scores_.data();
    const float* key = keys_.data();
    for (size_t j = 0; j < mt; ++j) {
      const size_t t = t0 + j;
      const double q = norms_[t];
      // The bound E on |key − exact key|, in key units.
      double bound = 2.0 * gamma_ * q * pmax;
      if (euclidean) bound += 2.0 * kUnit * max_sq + 2.0 * kUnit * q * pmax * (1.0 + gamma_);
      bound += kDoubleSlack * (q * q + max_sq + 1.0);
      // The worst exact distance so far, in key units (−inf when the target has none).
      double at_worst = -std::numeric_limits<double>::infinity();
      if (worst[t] != -std::numeric_limits<double>::infinity()) {
        const double w = worst[t] + kDoubleSlack * (std::fabs(worst[t]) + 1.0);
        at_worst = euclidean ? w * w - q * q : 2.0 * (w - 1.0);
      }
      double limit = at_worst + bound;
      if (missing[t] > 0) {
        if (missing[t] >= rows) {
          limit = std::numeric_limits<double>::infinity();
        } else {
          // The chunk's missing-th smallest key, raised by the bound twice.
          column.resize(rows);
          for (size_t i = 0; i < rows; ++i)
            column[i] = key[i] - 2.0F * s[i * mt + j];
          std::nth_element(column.begin(), column.begin() + static_cast<long>(missing[t] - 1),
                           column.end());
          limit = std::max(limit, static_cast<double>(column[missing[t] - 1]) + 2.0 * bound);
        }
      }
      threshold_[j] = float_at_least(limit);
    }
    const float* threshold = threshold_.data();
    for (auto& local : thread_hits_)
      local.clear();
#pragma omp parallel
    {
      std::vector<Hit>& local = thread_hits_[static_cast<size_t>(omp_get_thread_num())];
#pragma omp for schedule(static)
      for (size_t i = 0; i < rows; ++i) {
        const float* row = s + i * mt;
        const float k = key[i];
        for (size_t j0 = 0; j0 < mt; j0 += kScanStep) {
          const size_t end = std::min(mt, j0 + kScanStep);
          bool any = false;
#pragma omp simd reduction(| : any)
          for (size_t j = j0; j < end; ++j)
            any |= k - 2.0F * row[j] <= threshold[j];
          if (!any) continue;
          for (size_t j = j0; j < end; ++j) {
            if (k - 2.0F * row[j] <= threshold[j])
              local.push_back({static_cast<uint32_t>(t0 + j), static_cast<uint32_t>(i)});
          }
        }
      }
    }
    for (const auto& local : thread_hits_)
      hits.insert(hits.end(), local.begin(), local.end());
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.target < b.target || (a.target == b.target && a.row < b.row);
  });
}

}  // namespace deft::index
