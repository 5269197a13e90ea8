#pragma once
// The pool, block by block, into a search: under mpirun, this rank's contiguous share of its
// rows (parquet: only those row groups are read). Blocks hold at most memory_budget_mb / 2 of
// vectors, so pools larger than memory are mined. Every block's vectors are checked (finite;
// for cosine, not all zero) and the first one's dimension against the targets'.
//
//   PoolStream stream(db, job, pool_rows, pool_label_kind, targets, search.get());
//   stream.run();                                      // every rank agrees on a failure
//   const auto& seen = stream.seen();                  // what the outputs need of the rows

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/pool_search.h"
#include "mine/labels.h"
#include "mine/mine_job.h"
#include "mine/rank_merge.h"
#include "mine/targets.h"
#include "table/duckdb_handles.h"
#include "table/table_reader.h"

namespace deft {
class Progress;
}

namespace deft::mine {

class PoolStream {
 public:
  // `pool_rows`: the whole pool's. `search` may be null (no targets): the pool is still read
  // and checked.
  PoolStream(table::Database& db, const MineJob& job, uint64_t pool_rows,
             std::optional<LabelKind> pool_label_kind, const Targets& targets,
             index::PoolSearch* search);

  void run();

  // Rows of the pool's share the outputs may need: those among some target's best so far when
  // the search knows them as it goes, else every row.
  std::unordered_map<uint64_t, PoolRowInfo>& seen() { return seen_; }

 private:
  // A chunk as the reading thread hands it over: its vectors already unpacked.
  struct Fetched {
    table::DataChunk chunk;
    uint64_t first = 0;  // its first row, in pool rows
    std::vector<float> vectors;
    size_t dim = 0;
  };
  static constexpr size_t kChunksAhead = 3;
  // Blocks in memory at once: the streamed path's one; the block path's searched, queued and
  // filling ones.
  static constexpr size_t kStreamedBlocks = 1;
  static constexpr size_t kPrefetchedBlocks = 3;
  bool read_blocks(Progress& progress);
  void take(const Fetched& fetched, Progress& progress);
  void size_blocks(size_t dim, size_t blocks);
  void flush(Progress& progress);
  // `labels` empty: the pool has none (or they are not needed).
  void search_block(float* vectors, size_t rows, uint64_t first,
                    const std::vector<std::string>& paths,
                    const std::vector<std::optional<std::string>>& labels, Progress& progress);
  void remember_best(size_t rows, uint64_t first, const std::vector<std::string>& paths,
                     const std::vector<std::optional<std::string>>& labels);

  table::Database& db_;
  const MineJob& job_;
  const Targets& targets_;
  index::PoolSearch* search_;
  std::optional<LabelKind> label_kind_;
  std::optional<size_t> label_column_;
  uint64_t share_begin_ = 0;
  uint64_t share_end_ = 0;
  table::TableReader share_;
  uint64_t row_base_ = 0;  // the reader's row 0 in pool rows
  size_t vector_column_ = 0;
  std::string where_;

  size_t dim_ = 0;
  size_t block_rows_ = 0;
  std::vector<float> block_;  // block_rows_ vectors, allocated once
  std::vector<std::string> block_paths_;
  std::vector<std::optional<std::string>> block_labels_;
  uint64_t block_first_ = 0;
  std::unordered_map<uint64_t, PoolRowInfo> seen_;
};

}  // namespace deft::mine
