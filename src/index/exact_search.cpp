#include "index/exact_search.h"

#include <algorithm>
#include <limits>

#include "common/error.h"
#include "index/bounded_candidates.h"
#include "index/manhattan_candidates.h"

namespace deft::index {

namespace {

// Puts `candidate` into `best` (the n nearest so far, in `nearer` order) if it belongs there.
void keep_if_nearer(std::vector<Neighbor>& best, const Neighbor& candidate, size_t n) {
  if (best.size() == n && !nearer(candidate, best.back())) return;
  best.insert(std::upper_bound(best.begin(), best.end(), candidate, nearer), candidate);
  if (best.size() > n) best.pop_back();
}

}  // namespace

ExactSearch::ExactSearch(Metric metric, size_t dim, std::vector<float> targets, size_t topn,
                         bool normalized, ScorePrecision precision)
    : metric_(metric),
      normalize_(metric == Metric::kCosine && !normalized),
      dim_(dim),
      targets_(std::move(targets)),
      targets_count_(dim == 0 ? 0 : targets_.size() / dim),
      topn_(topn),
      precision_(precision),
      best_(targets_count_) {
  DEFT_ASSERT(dim > 0 && targets_.size() % dim == 0, "targets are whole vectors");
  if (normalize_) {
    DEFT_ASSERT(normalize_rows(targets_.data(), targets_count_, dim_) == targets_count_,
                "targets that cannot be normalised are rejected before the search");
  }
}

ExactSearch::~ExactSearch() = default;
ExactSearch::ExactSearch(ExactSearch&&) noexcept = default;
ExactSearch& ExactSearch::operator=(ExactSearch&&) noexcept = default;

void ExactSearch::add_block(float* vectors, size_t rows, std::optional<uint64_t> first_row) {
  if (first_row) next_row_ = *first_row;
  if (normalize_) {
    DEFT_ASSERT(normalize_rows(vectors, rows, dim_) == rows,
                "pool vectors that cannot be normalised are rejected before the search");
  }
  search(vectors, rows, nullptr, next_row_);
  next_row_ += rows;
}

void ExactSearch::add_rows(float* vectors, const uint64_t* pool_rows, size_t rows) {
  if (normalize_) {
    DEFT_ASSERT(normalize_rows(vectors, rows, dim_) == rows,
                "pool vectors that cannot be normalised are rejected before the search");
  }
  search(vectors, rows, pool_rows, 0);
}

void ExactSearch::add_normalized_rows(const float* vectors, const uint64_t* pool_rows,
                                      size_t rows) {
  DEFT_ASSERT(!normalize_, "rows given as they are only when the search need not normalise them");
  search(vectors, rows, pool_rows, 0);
}

std::unique_ptr<CandidateFinder> ExactSearch::make_finder() const {
  if (metric_ == Metric::kManhattan) {
    return std::make_unique<ManhattanCandidates>(targets_.data(), targets_count_, dim_);
  }
  return std::make_unique<BoundedCandidates>(metric_, targets_.data(), targets_count_, dim_,
                                             precision_);
}

std::string ExactSearch::candidate_kernel() const {
  return finder_ ? finder_->kernel() : make_finder()->kernel();
}

void ExactSearch::search(const float* vectors, size_t rows, const uint64_t* pool_rows,
                         uint64_t first_row) {
  if (rows == 0 || targets_count_ == 0 || topn_ == 0) return;
  if (!finder_) finder_ = make_finder();
  pairs_searched_ += static_cast<uint64_t>(rows) * targets_count_;
  std::vector<double> worst(targets_count_);
  std::vector<size_t> missing(targets_count_);
  std::vector<CandidateHit> hits;
  std::vector<double> distances;
  for (size_t c0 = 0; c0 < rows; c0 += CandidateFinder::kPoolChunk) {
    const size_t n = std::min(CandidateFinder::kPoolChunk, rows - c0);
    for (size_t q = 0; q < targets_count_; ++q) {
      const std::vector<Neighbor>& best = best_[q];
      worst[q] = best.empty() ? -std::numeric_limits<double>::infinity() : best.back().distance;
      missing[q] = topn_ - best.size();
    }
    const float* chunk = vectors + c0 * dim_;
    finder_->find(chunk, n, worst, missing, hits);
    rescored_ += hits.size();
    // Every hit's exact distance, eight pairs at a time (a target's own hits in a chunk are
    // too few to fill the lanes), then each target's hits merged into its best.
    distances.resize(hits.size());
    const auto groups_of_eight = static_cast<std::ptrdiff_t>((hits.size() + 7) / 8);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t g = 0; g < groups_of_eight; ++g) {
      const auto begin = static_cast<size_t>(g) * 8;
      const size_t count = std::min<size_t>(8, hits.size() - begin);
      const float* a[8];
      const float* b[8];
      for (size_t l = 0; l < count; ++l) {
        a[l] = targets_.data() + hits[begin + l].target * dim_;
        b[l] = vectors + (c0 + hits[begin + l].row) * dim_;
      }
      exact_distances(metric_, a, b, count, dim_, distances.data() + begin);
    }
    std::vector<size_t> starts;
    for (size_t h = 0; h < hits.size(); ++h) {
      if (h == 0 || hits[h].target != hits[h - 1].target) starts.push_back(h);
    }
    starts.push_back(hits.size());
    const size_t groups = starts.size() - 1;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < groups; ++r) {
      const size_t q = hits[starts[r]].target;
      for (size_t h = starts[r]; h < starts[r + 1]; ++h) {
        const size_t i = c0 + hits[h].row;
        const uint64_t row = pool_rows != nullptr ? pool_rows[i] : first_row + i;
        keep_if_nearer(best_[q], {distances[h], row}, topn_);
      }
    }
  }
}

}  // namespace deft::index
