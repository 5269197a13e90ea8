#include "index/bounded_candidates.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include <fmt/format.h>
#include <omp.h>

#include "common/error.h"
#include "index/vector_loops.h"

namespace deft::index {

namespace {

constexpr double kUnit = 0x1p-24;  // u: the unit roundoff of float
// What the bound leaves to double arithmetic: exact_distance's own rounding, |q|² and |p|² in
// double, the worst distance squared (relative and absolute, far above 2⁻⁵³ × d).
constexpr double kDoubleSlack = 1e-12;

}  // namespace

ScorePrecision default_score_precision() {
  if (const char* forced = std::getenv("DEFT_SEARCH_PRECISION")) {  // NOLINT(concurrency-mt-unsafe)
    const std::string value = forced;
    if (value == "fp32") return ScorePrecision::kF32;
    if (value == "int8") {
      // Without VNNI or AMX, oneDNN multiplies u8 × s8 through vpmaddubsw, whose int16 pair
      // sums saturate: the products are no longer exact and the bound would not hold.
      if (!kernels::cpu_has_int8_dot()) {
        throw Error(ErrorKind::kUsage,
                    fmt::format("DEFT_SEARCH_PRECISION=int8 needs a CPU with AVX-512 VNNI, "
                                "AVX-VNNI or AMX-INT8 (oneDNN runs on {} here, whose int8 "
                                "products saturate)",
                                kernels::onednn_matmul_isa(kernels::MatmulInputs::kInt8)));
      }
      return ScorePrecision::kInt8;
    }
    throw Error(ErrorKind::kUsage,
                fmt::format("DEFT_SEARCH_PRECISION is '{}': it takes fp32 or int8", value));
  }
  return kernels::cpu_has_int8_dot() ? ScorePrecision::kInt8 : ScorePrecision::kF32;
}

const char* score_precision_name(ScorePrecision precision) {
  return precision == ScorePrecision::kInt8 ? "int8" : "fp32";
}

std::string BoundedCandidates::kernel() const {
  return fmt::format("{} inner products on oneDNN ({})", score_precision_name(precision_),
                     kernels::onednn_matmul_isa(precision_ == ScorePrecision::kInt8
                                                    ? kernels::MatmulInputs::kInt8
                                                    : kernels::MatmulInputs::kF32));
}

BoundedCandidates::BoundedCandidates(Metric metric, const float* targets, size_t count, size_t dim,
                                     ScorePrecision precision)
    : metric_(metric), precision_(precision), dim_(dim), count_(count), targets_(targets) {
  DEFT_ASSERT(metric != Metric::kManhattan, "manhattan has no inner-product bound");
  DEFT_ASSERT(precision != ScorePrecision::kInt8 || kernels::cpu_has_int8_dot(),
              "int8 scores only where the products are exact (VNNI, AMX-INT8)");
  gamma_ = gamma_n(dim, kUnit);
  norms_.resize(count);
  for (size_t t = 0; t < count; ++t) {
    double sum = 0;
    for (size_t k = 0; k < dim; ++k)
      sum += static_cast<double>(targets[t * dim + k]) * targets[t * dim + k];
    norms_[t] = std::sqrt(sum);
  }
  if (precision_ == ScorePrecision::kInt8) {
    quantize_rows(targets, count, dim, Int8Offset::kNone, targets_int8_);
    target_scale_.assign(targets_int8_.scale.begin(), targets_int8_.scale.end());
    offsets_.resize(count);
    for (size_t t = 0; t < count; ++t)
      offsets_[t] = 128 * targets_int8_.sum[t];
  }
  for (size_t t0 = 0; t0 < count; t0 += kTargetChunk) {
    const size_t n = std::min(kTargetChunk, count - t0);
    if (precision_ == ScorePrecision::kInt8) {
      packed_int8_.emplace_back(
          reinterpret_cast<const int8_t*>(targets_int8_.values.data()) + t0 * dim,
          static_cast<int>(dim), static_cast<int>(n));
    } else {
      packed_.emplace_back(std::span<const float>(targets + t0 * dim, n * dim),
                           std::span<const float>(), static_cast<int>(dim), static_cast<int>(n),
                           kernels::Precision::kF32);
    }
  }
  // The packed copies serve from here on.
  std::vector<uint8_t>().swap(targets_int8_.values);
  if (precision_ == ScorePrecision::kInt8) {
    products_.resize(kPoolChunk * std::min(kTargetChunk, count));
  } else {
    scores_.resize(kPoolChunk * std::min(kTargetChunk, count));
  }
  threshold_.resize(std::min(kTargetChunk, count));
  refine_.resize(threshold_.size());
  thread_hits_.resize(static_cast<size_t>(std::max(1, omp_get_max_threads())));
}

void BoundedCandidates::score(size_t chunk, const float* vectors, size_t rows) {
  if (precision_ == ScorePrecision::kF32) {
    packed_[chunk].apply(vectors, rows, scores_.data());  // rows × the chunk's targets: ŝ
    return;
  }
  // The product holds w·v + 128·Σw; w·v (|w·v| ≤ 127²·d < 2²⁴) converts to float exactly, so
  // ŝ = a·b·(w·v) in float (int8_score, computed where it is read) is off by at most three
  // roundings (a, b, two products): ≤ 5u|ŝ|.
  packed_int8_[chunk].apply(chunk_int8_.values.data(), rows, products_.data());
}

float BoundedCandidates::score_at(size_t t0, size_t mt, size_t i, size_t j) const {
  if (precision_ == ScorePrecision::kF32) return scores_[i * mt + j];
  return int8_score(products_[i * mt + j], offsets_[t0 + j], target_scale_[t0 + j],
                    static_cast<float>(chunk_int8_.scale[i]));
}

double BoundedCandidates::bound(ScorePrecision precision, size_t t, double pmax,
                                double max_sq) const {
  const bool euclidean = metric_ == Metric::kEuclidean;
  const double q = norms_[t];
  double e = 0;
  if (precision == ScorePrecision::kF32) {
    e = 2.0 * gamma_ * q * pmax;
    if (euclidean) e += 2.0 * kUnit * max_sq + 2.0 * kUnit * q * pmax * (1.0 + gamma_);
  } else {
    const double w = targets_int8_.norm[t], r = targets_int8_.residual[t];
    const double largest = w * chunk_norm_;  // ≥ |ŝ|
    e = 2.0 * (w * chunk_residual_ + r * chunk_norm_ + r * chunk_residual_) +
        2.0 * 5.0 * kUnit * largest;
    if (euclidean) e += 2.0 * kUnit * max_sq + 2.0 * kUnit * largest * (1.0 + 5.0 * kUnit);
  }
  return e + kDoubleSlack * (q * q + max_sq + 1.0);
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
    const double sum = squared_norm(vectors + i * dim_, dim_);
    max_sq = std::max(max_sq, sum);
    keys_[i] = euclidean ? static_cast<float>(sum) : 0.0F;
  }
  const double pmax = std::sqrt(max_sq);
  if (precision_ == ScorePrecision::kInt8) {
    quantize_rows(vectors, rows, dim_, Int8Offset::k128, chunk_int8_);
    chunk_residual_ = *std::max_element(chunk_int8_.residual.begin(), chunk_int8_.residual.end());
    chunk_norm_ = *std::max_element(chunk_int8_.norm.begin(), chunk_int8_.norm.end());
  }
  std::vector<float> column;
  for (size_t chunk = 0; chunk < packed_.size() + packed_int8_.size(); ++chunk) {
    const size_t t0 = chunk * kTargetChunk;
    const size_t mt = std::min(kTargetChunk, count_ - t0);
    score(chunk, vectors, rows);
    const float* s = scores_.data();
    const float* key = keys_.data();
    for (size_t j = 0; j < mt; ++j) {
      const size_t t = t0 + j;
      const double q = norms_[t];
      const double e = bound(precision_, t, pmax, max_sq);
      // The worst exact distance so far, in key units (−inf when the target has none).
      double at_worst = -std::numeric_limits<double>::infinity();
      if (worst[t] != -std::numeric_limits<double>::infinity()) {
        const double w = worst[t] + kDoubleSlack * (std::fabs(worst[t]) + 1.0);
        at_worst = euclidean ? w * w - q * q : 2.0 * (w - 1.0);
      }
      double limit = at_worst + e;
      // int8 hits are checked again in fp32, whose bound is ~100× tighter, before any is
      // scored in double (collect).
      if (precision_ == ScorePrecision::kInt8) {
        const double ef = bound(ScorePrecision::kF32, t, pmax, max_sq);
        refine_[j] = {.limit = at_worst + ef,
                      .missing = missing[t] >= rows ? kKeepAll : missing[t],
                      .raise = 2.0 * ef};
      } else {
        refine_[j] = {.missing = kKeepAll};
      }
      if (missing[t] > 0) {
        if (missing[t] >= rows) {
          limit = std::numeric_limits<double>::infinity();
        } else {
          // The chunk's missing-th smallest key, raised by the bound twice.
          column.resize(rows);
          for (size_t i = 0; i < rows; ++i)
            column[i] = key[i] - 2.0F * score_at(t0, mt, i, j);
          std::nth_element(column.begin(), column.begin() + static_cast<long>(missing[t] - 1),
                           column.end());
          limit = std::max(limit, static_cast<double>(column[missing[t] - 1]) + 2.0 * e);
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
      std::vector<uint8_t> flags(mt + 8, 0);
#pragma omp for schedule(static)
      for (size_t i = 0; i < rows; ++i) {
        if (precision_ == ScorePrecision::kF32) {
          mark_candidates(s + i * mt, key[i], threshold, mt, flags.data());
        } else {
          mark_candidates_int8(products_.data() + i * mt, offsets_.data() + t0,
                               target_scale_.data() + t0, static_cast<float>(chunk_int8_.scale[i]),
                               key[i], threshold, mt, flags.data());
        }
        // Most flags are 0: eight at a time.
        for (size_t j0 = 0; j0 < mt; j0 += 8) {
          uint64_t eight = 0;
          std::memcpy(&eight, flags.data() + j0, 8);
          if (eight == 0) continue;
          for (size_t j = j0; j < std::min(mt, j0 + 8); ++j) {
            if (flags[j] != 0)
              local.push_back({static_cast<uint32_t>(j), static_cast<uint32_t>(i)});
          }
        }
      }
    }
    collect(t0, mt, vectors, hits);
  }
}

void BoundedCandidates::collect(size_t t0, size_t mt, const float* vectors,
                                std::vector<Hit>& hits) {
  // By target (a counting sort; each thread's rows are ascending and follow the previous
  // thread's, so rows stay ascending within a target).
  target_start_.assign(mt + 1, 0);
  for (const auto& local : thread_hits_)
    for (const Hit& h : local)
      ++target_start_[h.target + 1];
  for (size_t j = 0; j < mt; ++j)
    target_start_[j + 1] += target_start_[j];
  by_target_.resize(target_start_[mt]);
  std::vector<size_t> next(target_start_.begin(), target_start_.end() - 1);
  for (const auto& local : thread_hits_)
    for (const Hit& h : local)
      by_target_[next[h.target]++] = {static_cast<uint32_t>(t0 + h.target), h.row};
  // The fp32 re-check, a target at a time (its vector read once for all its hits), by the
  // rule of the int8 scan with fp32's bound: below the worst so far, or — while the target
  // lacks `missing` — below the missing-th smallest fp32 key of its hits raised twice (the
  // hits hold the chunk's `missing` nearest, so that key is no less than theirs).
  kept_.assign(mt, 0);
#pragma omp parallel
  {
    std::vector<float> keys, sorted;
#pragma omp for schedule(dynamic, 32)
    for (size_t j = 0; j < mt; ++j) {
      const size_t begin = target_start_[j], end = target_start_[j + 1];
      const Refine& r = refine_[j];
      if (r.missing == kKeepAll || (r.missing > 0 && end - begin <= r.missing)) {
        kept_[j] = end - begin;
        continue;
      }
      const float* target = targets_ + (t0 + j) * dim_;
      keys.resize(end - begin);
      for (size_t h = begin; h < end; ++h) {
        const uint32_t i = by_target_[h].row;
        keys[h - begin] = keys_[i] - 2.0F * dot_f32(target, vectors + i * dim_, dim_);
      }
      double limit = r.limit;
      if (r.missing > 0) {
        sorted = keys;
        std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(r.missing - 1),
                         sorted.end());
        limit = std::max(limit, static_cast<double>(sorted[r.missing - 1]) + r.raise);
      }
      const float threshold = float_at_least(limit);
      size_t out = begin;
      for (size_t h = begin; h < end; ++h) {
        if (keys[h - begin] <= threshold) by_target_[out++] = by_target_[h];
      }
      kept_[j] = out - begin;
    }
  }
  for (size_t j = 0; j < mt; ++j) {
    hits.insert(hits.end(), by_target_.begin() + static_cast<std::ptrdiff_t>(target_start_[j]),
                by_target_.begin() + static_cast<std::ptrdiff_t>(target_start_[j] + kept_[j]));
  }
}

}  // namespace deft::index
