#pragma once
// One interface for searching a pool that is streamed in blocks: each target's nearest pool
// rows. Exact, per-label and approximate searches implement it, and so can a new mining mode;
// a mining run picks one by name (mine/pool_searches.h), the way FAISS picks an index from a
// factory string.
//
//   std::unique_ptr<index::PoolSearch> search = ...;
//   while (next_block(...)) search->add_block(vectors, rows, first_row, labels);
//   std::vector<std::vector<index::Neighbor>> hits = search->finish();   // per target
//   std::string said = search->describe();                                // for the summary

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "index/exact_search.h"

namespace deft::index {

class PoolSearch {
 public:
  virtual ~PoolSearch() = default;

  // Pool rows first_row .. first_row + rows - 1: their vectors (the targets' dimension; the
  // search may normalise them in place) and their labels as read (nullopt: none or NULL).
  virtual void add_block(float* vectors, size_t rows, uint64_t first_row,
                         const std::vector<std::optional<std::string>>& labels) = 0;

  // True when the best rows so far are known after every block (results_so_far()): the caller
  // then remembers only those rows; otherwise it remembers every row it streams.
  virtual bool knows_best_so_far() const { return false; }
  virtual std::vector<std::vector<Neighbor>> results_so_far() const { return {}; }

  // After the last block: per target, its neighbours, nearest first (distance, then pool row).
  virtual std::vector<std::vector<Neighbor>> finish() = 0;

  // What searched, in words, for the summary's `index:` line (after finish()).
  virtual std::string describe() const = 0;

  // Whether each MPI rank may search a share of the pool, their lists then merged by
  // (distance, pool row) into the same result as one process.
  virtual bool splits_across_ranks() const { return false; }
};

}  // namespace deft::index
