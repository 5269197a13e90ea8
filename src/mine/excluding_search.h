#pragma once
// A pool search that leaves out rows an earlier mining round took (the history's groups), and
// still learns how many of each target's nearest rows those were: the excluded rows go to a
// second search of the same kind, and each target's top-n over the whole pool is the merge
// of the two lists.
//
//   ExcludingSearch search(make(), make(), excluded_rows);   // excluded_rows[pool_row]
//   ... search.add_block(vectors, rows, first_row, labels) ...
//   auto hits = search.finish();                 // never an excluded row
//   AlreadyMined share = search.already_mined(topn);
//
// Each inner search sees its rows packed and numbered 0, 1, 2 …, in pool order (so ties still
// go to the lower pool row); the results are numbered as pool rows again.

#include <cstdint>
#include <memory>
#include <vector>

#include "index/pool_search.h"

namespace deft::mine {

struct AlreadyMined {
  uint64_t candidates = 0;  // each target's top-n over the whole pool, summed
  uint64_t mined = 0;       // of those, rows an earlier round mined
};

// Of each target's topn nearest over both lists (merged by distance, then pool row), how many
// come from `history`. Both lists nearest first.
AlreadyMined count_already_mined(const std::vector<std::vector<index::Neighbor>>& kept,
                                 const std::vector<std::vector<index::Neighbor>>& history,
                                 size_t topn);

class ExcludingSearch : public index::PoolSearch {
 public:
  // `excluded`: one entry per pool row; `dim`: the vectors' dimension.
  ExcludingSearch(std::unique_ptr<index::PoolSearch> kept,
                  std::unique_ptr<index::PoolSearch> history, const std::vector<bool>& excluded,
                  size_t dim);

  void add_block(float* vectors, size_t rows, uint64_t first_row,
                 const std::vector<std::optional<std::string>>& labels) override;
  bool knows_best_so_far() const override { return kept_.search->knows_best_so_far(); }
  std::vector<std::vector<index::Neighbor>> results_so_far() const override;
  std::vector<std::vector<index::Neighbor>> finish() override;
  std::string describe() const override { return kept_.search->describe(); }
  bool splits_across_ranks() const override { return kept_.search->splits_across_ranks(); }

  // After finish(): the excluded rows' own nearest, per target (pool rows).
  const std::vector<std::vector<index::Neighbor>>& history_results() const {
    return history_results_;
  }

 private:
  // One inner search and how its packed row numbers map back to pool rows.
  struct Side {
    // Packed rows [packed, packed + length) are pool rows [pool, pool + length).
    struct Run {
      uint64_t packed = 0, pool = 0, length = 0;
    };
    std::unique_ptr<index::PoolSearch> search;
    std::vector<Run> runs;
    uint64_t packed_rows = 0;
    void append(uint64_t pool_row);
    uint64_t pool_row(uint64_t packed) const;
    std::vector<std::vector<index::Neighbor>> to_pool(
        std::vector<std::vector<index::Neighbor>> lists) const;
  };
  void feed(Side& side, float* vectors, size_t rows, uint64_t first_row,
            const std::vector<std::optional<std::string>>& labels, bool take_excluded);

  Side kept_, history_;
  const std::vector<bool>& excluded_;
  size_t dim_ = 0;
  std::vector<float> packed_;
  std::vector<std::optional<std::string>> packed_labels_;
  std::vector<std::vector<index::Neighbor>> history_results_;
};

}  // namespace deft::mine
