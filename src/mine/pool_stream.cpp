#include "mine/pool_stream.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"
#include "common/progress.h"
#include "mine/input_checks.h"
#include "parallel/cluster.h"
#include "table/embedding_table.h"
#include "table/vector_access.h"

namespace deft::mine {

namespace {

std::pair<uint64_t, uint64_t> share_of(uint64_t pool_rows) {
  return parallel::Cluster::get().share(pool_rows);
}

}  // namespace

PoolStream::PoolStream(table::Database& db, const MineJob& job, uint64_t pool_rows,
                       std::optional<LabelKind> pool_label_kind, const Targets& targets,
                       index::PoolSearch* search)
    : job_(job),
      targets_(targets),
      search_(search),
      label_kind_(pool_label_kind),
      share_begin_(share_of(pool_rows).first),
      share_end_(share_of(pool_rows).second),
      share_(db, job.source,
             {.columns = {table::kFilepathColumn, job.source_column},
              .optional_columns = {table::kLabelColumn},
              .first_row = share_begin_,
              .end_row = share_end_}),
      row_base_(share_.row_range_applied() ? share_begin_ : 0),
      vector_column_(*share_.find_column(job.source_column)),
      where_(fmt::format("'{}' column '{}'", job.source.string(), job.source_column)),
      block_first_(share_begin_) {
  if (label_kind_) label_column_ = share_.label_column();
}

void PoolStream::run() {
  Progress progress(std::max<uint64_t>(share_end_ - share_begin_, 1), "mining");
  // A failure in one rank's share (a NaN row, an unreadable row group) must stop every rank:
  // the ranks agree on it instead of waiting for each other forever.
  parallel::Cluster::get().agree([&] {
    while (table::DataChunk chunk = share_.next_chunk())
      take(chunk, progress);
    flush(progress);
  });
  progress.finish();
}

void PoolStream::take(const table::DataChunk& chunk, Progress& progress) {
  const idx_t n = duckdb_data_chunk_get_size(chunk.get());
  const uint64_t first = row_base_ + share_.rows_read() - n;
  const size_t had_dim = dim_;
  chunk_vectors_.clear();
  table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), vector_column_),
                           share_.column_type(vector_column_), n, first, where_, dim_,
                           chunk_vectors_);
  if (had_dim == 0 && dim_ != 0) size_blocks(dim_);
  duckdb_vector paths = duckdb_data_chunk_get_vector(chunk.get(), share_.filepath_column());
  for (idx_t i = 0; i < n; ++i) {
    if (first + i < share_begin_ || first + i >= share_end_) continue;  // a CSV read whole
    std::copy_n(chunk_vectors_.data() + i * dim_, dim_, block_.data() + block_paths_.size() * dim_);
    block_paths_.emplace_back(table::is_valid(paths, i) ? table::string_at(paths, i) : "");
    block_labels_.push_back(
        label_column_ ? label_at(duckdb_data_chunk_get_vector(chunk.get(), *label_column_),
                                 share_.column_type(*label_column_), i)
                      : std::nullopt);
    if (block_paths_.size() == block_rows_) flush(progress);  // blocks may end inside a chunk
  }
}

// The first vector tells the dimension: checked against the targets', and the block sized.
void PoolStream::size_blocks(size_t dim) {
  if (!targets_.paths.empty() && dim != targets_.dim) {
    throw Error(ErrorKind::kInput,
                fmt::format("the targets' vectors ('{}' column '{}') have {} dimensions but "
                            "the pool's ('{}' column '{}') have {}",
                            job_.target.string(), job_.target_column, targets_.dim,
                            job_.source.string(), job_.source_column, dim),
                "embed both tables with the same encoder");
  }
  const double budget = job_.memory_budget_mb * 1024 * 1024;
  // Half the budget for the block's vectors; the rest for copies, results and DuckDB.
  block_rows_ = std::max<size_t>(
      1, static_cast<size_t>(budget / 2 / (static_cast<double>(dim) * sizeof(float))));
  const uint64_t pool_rows = std::max<uint64_t>(share_end_ - share_begin_, 1);
  block_rows_ = std::min<uint64_t>(block_rows_, pool_rows);  // small pools: small blocks
  block_.resize(block_rows_ * dim);
}

void PoolStream::flush(Progress& progress) {
  const size_t rows = block_paths_.size();
  if (rows == 0) return;
  require_usable_vectors(block_.data(), rows, dim_, block_first_, job_.source, job_.source_column,
                         job_.metric);
  if (search_ != nullptr) {
    search_->add_block(block_.data(), rows, block_first_, block_labels_);
    if (search_->knows_best_so_far()) {
      remember_best(rows);
    } else {
      for (size_t i = 0; i < rows; ++i)
        seen_.emplace(block_first_ + i, PoolRowInfo{block_paths_[i], block_labels_[i]});
    }
  }
  block_first_ += rows;
  progress.advance(rows);
  block_paths_.clear();
  block_labels_.clear();
}

// Remembers what the outputs need of this block's rows that are now among the best, and
// forgets rows that dropped out of every list (bounding `seen` by the lists' size).
void PoolStream::remember_best(size_t rows) {
  const auto best = search_->results_so_far();
  for (const auto& hits : best) {
    for (const index::Neighbor& n : hits) {
      if (n.pool_row >= block_first_ && n.pool_row < block_first_ + rows) {
        const size_t i = n.pool_row - block_first_;
        seen_.try_emplace(n.pool_row, PoolRowInfo{block_paths_[i], block_labels_[i]});
      }
    }
  }
  if (seen_.size() > 4 * targets_.paths.size() * job_.topn) {
    std::unordered_map<uint64_t, PoolRowInfo> kept;
    for (const auto& hits : best) {
      for (const index::Neighbor& n : hits)
        kept.emplace(n.pool_row, seen_.at(n.pool_row));
    }
    seen_.swap(kept);
  }
}

}  // namespace deft::mine
