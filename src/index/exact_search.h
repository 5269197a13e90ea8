#pragma once
// Exact k-nearest-neighbour search of targets against a pool streamed in blocks, so the pool
// never has to fit in memory. Approximate scores with a proven error bound name every row
// that could still enter a target's top-n, and only those are scored exactly — the result
// equals a double-precision brute force over the stored floats. Cosine and euclidean: int8
// (or fp32) inner products on oneDNN (index/bounded_candidates.h); Manhattan: fp32 sums on
// AVX-512 (index/manhattan_candidates.h).
//
//   index::ExactSearch search(index::Metric::kCosine, dim, std::move(targets), /*topn=*/5);
//   while (next_block(vectors, rows)) search.add_block(vectors.data(), rows);
//   for (const auto& hits : search.results()) ...   // per target, best first
//
// Order: by exact_distance, then by pool row (earlier first), so ties are deterministic and the
// result does not depend on the block size.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "index/metric.h"
#include "index/score_precision.h"

namespace deft::index {

class CandidateFinder;

struct Neighbor {
  double distance;
  uint64_t pool_row;  // in the order the pool was streamed, from 0
};

// (distance, pool_row) order: the nearer first, then the earlier row.
inline bool nearer(const Neighbor& a, const Neighbor& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.pool_row < b.pool_row);
}

class ExactSearch {
 public:
  // Approximate indexes (index/approximate_search.h) re-score this many candidates beyond topn.
  static constexpr size_t kSpareCandidates = 8;

  // `targets`: rows × dim floats. For cosine they are normalised here (and so is every pool
  // block) unless `normalized` says the caller has already done it (normalising twice moves
  // the last bits); a row that cannot be (zero or non-finite) must have been rejected before
  // (DEFT_ASSERT).
  ExactSearch(Metric metric, size_t dim, std::vector<float> targets, size_t topn,
              bool normalized = false, ScorePrecision precision = default_score_precision());
  ~ExactSearch();
  ExactSearch(ExactSearch&&) noexcept;
  ExactSearch& operator=(ExactSearch&&) noexcept;

  // The next `rows` pool vectors (rows × dim floats; modified: normalised for cosine). Their
  // pool rows continue from the previous block's, or start at `first_row` when given (a rank's
  // share of the pool starts where the previous rank's ends).
  void add_block(float* vectors, size_t rows, std::optional<uint64_t> first_row = std::nullopt);
  // Adds a block whose vectors are pool rows `pool_rows[i]` (increasing), e.g. one label's
  // rows; does not advance the running row count.
  void add_rows(float* vectors, const uint64_t* pool_rows, size_t rows);
  // The same for vectors the search need not change (built with `normalized`, or not cosine).
  void add_normalized_rows(const float* vectors, const uint64_t* pool_rows, size_t rows);

  size_t targets() const { return targets_count_; }
  uint64_t pool_rows_seen() const { return next_row_; }
  // Per target, at most topn neighbours, nearest first.
  const std::vector<std::vector<Neighbor>>& results() const { return best_; }
  // How many (target, pool row) pairs were scored exactly (cosine, euclidean): the work the
  // bound left; the rest of the pool was ruled out by the fp32 scores.
  uint64_t rescored() const { return rescored_; }
  // (target, pool row) pairs searched so far: targets × rows added.
  uint64_t pairs_searched() const { return pairs_searched_; }
  ScorePrecision precision() const { return precision_; }
  // What computes the candidate scores, for the summary ("int8 inner products on oneDNN
  // (avx512_core_vnni)", "fp32 L1 sums (AVX-512)", …).
  std::string candidate_kernel() const;

 private:
  void search(const float* vectors, size_t rows, const uint64_t* pool_rows, uint64_t first_row);
  std::unique_ptr<CandidateFinder> make_finder() const;

  Metric metric_;
  bool normalize_;  // cosine, and the caller has not normalised
  size_t dim_;
  std::vector<float> targets_;
  size_t targets_count_;
  size_t topn_;
  ScorePrecision precision_;
  uint64_t next_row_ = 0;
  std::vector<std::vector<Neighbor>> best_;
  std::unique_ptr<CandidateFinder> finder_;  // made at the first block
  uint64_t rescored_ = 0;
  uint64_t pairs_searched_ = 0;
};

}  // namespace deft::index
