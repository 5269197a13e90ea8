#include "mine/pool_stream.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "common/error.h"
#include "common/log.h"
#include "common/prefetch.h"
#include "common/progress.h"
#include "mine/input_checks.h"
#include "parallel/cluster.h"
#include "table/embedding_table.h"
#include "table/parquet_share.h"
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
    : db_(db),
      job_(job),
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
    if (share_.format() == table::TableFormat::kParquet && read_blocks(progress)) return;
    // DuckDB decodes the parquet on the thread that fetches: that thread, a few chunks ahead,
    // also unpacks their vectors, while this one searches (reading was ~60% of a 1k × 1M
    // cosine run, serial with the search).
    size_t dim = 0;
    Prefetch<Fetched> ahead(kChunksAhead, [&](const Prefetch<Fetched>::Give& give) {
      while (table::DataChunk chunk = share_.next_chunk()) {
        Fetched f;
        const idx_t n = duckdb_data_chunk_get_size(chunk.get());
        f.first = row_base_ + share_.rows_read() - n;
        table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), vector_column_),
                                 share_.column_type(vector_column_), n, f.first, where_, dim,
                                 f.vectors);
        f.dim = dim;
        f.chunk = std::move(chunk);
        if (!give(std::move(f))) return;
      }
    });
    while (std::optional<Fetched> f = ahead.next())
      take(*f, progress);
    flush(progress);
  });
  progress.finish();
}

void PoolStream::take(const Fetched& fetched, Progress& progress) {
  const table::DataChunk& chunk = fetched.chunk;
  const idx_t n = duckdb_data_chunk_get_size(chunk.get());
  const uint64_t first = fetched.first;
  if (dim_ == 0 && fetched.dim != 0) {
    dim_ = fetched.dim;
    size_blocks(dim_, kStreamedBlocks);
  }
  duckdb_vector paths = duckdb_data_chunk_get_vector(chunk.get(), share_.filepath_column());
  for (idx_t i = 0; i < n; ++i) {
    if (first + i < share_begin_ || first + i >= share_end_) continue;  // a CSV read whole
    std::copy_n(fetched.vectors.data() + i * dim_, dim_,
                block_.data() + block_paths_.size() * dim_);
    block_paths_.emplace_back(table::is_valid(paths, i) ? table::string_at(paths, i) : "");
    block_labels_.push_back(
        label_column_ ? label_at(duckdb_data_chunk_get_vector(chunk.get(), *label_column_),
                                 share_.column_type(*label_column_), i)
                      : std::nullopt);
    if (block_paths_.size() == block_rows_) flush(progress);  // blocks may end inside a chunk
  }
}

// A parquet table (a file, or a folder of files read in name order): blocks of rows placed
// straight into memory by DuckDB's parallel scan (table/parquet_share.h), file by file, the
// next block read while this one is searched. False when the share's first row has no
// embedding: the streamed path then names what is wrong with it.
bool PoolStream::read_blocks(Progress& progress) {
  table::ParquetShare share(
      db_, job_.source,
      {.columns = {table::kFilepathColumn, job_.source_column},
       .optional_columns = {table::kLabelColumn}},
      [&](const table::TableReader& schema) {
        return table::ParquetBlocks::Columns{
            .vector = *schema.find_column(job_.source_column),
            .text = schema.filepath_column(),
            .extra = label_column_ ? schema.label_column() : std::nullopt};
      },
      label_at, job_.source_column, share_begin_, share_end_);
  if (share.empty()) return true;
  const std::optional<size_t> dim = share.dimension();
  if (!dim || *dim == 0) return false;
  dim_ = *dim;
  size_blocks(dim_, kPrefetchedBlocks);
  log::info("mining: the pool read in blocks of {} rows, placed by DuckDB's parallel scan",
            block_rows_);
  const auto start = std::chrono::steady_clock::now();
  const table::ParquetShare::Timing timing =
      share.read(dim_, block_rows_, /*yield=*/false, nullptr, [&](table::ParquetShare::Block& b) {
        search_block(b.vectors.data(), b.rows, b.first, b.texts, b.extras, progress);
      });
  log::info(
      "mining: {:.1f} s; reading the pool took {:.1f} s, of which the search waited "
      "{:.1f} s",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
      timing.reading, timing.waiting);
  return true;
}

// The first vector tells the dimension: checked against the targets', and the blocks sized:
// `blocks` of them may be in memory at once, in half the budget.
void PoolStream::size_blocks(size_t dim, size_t blocks) {
  if (!targets_.paths.empty() && dim != targets_.dim) {
    throw Error(ErrorKind::kInput,
                fmt::format("the targets' vectors ('{}' column '{}') have {} dimensions but "
                            "the pool's ('{}' column '{}') have {}",
                            job_.target.string(), job_.target_column, targets_.dim,
                            job_.source.string(), job_.source_column, dim),
                "embed both tables with the same encoder");
  }
  const double budget = job_.memory_budget_mb * 1024 * 1024;
  // Half the budget for the blocks' vectors; the rest for copies, results and DuckDB.
  block_rows_ =
      std::max<size_t>(1, static_cast<size_t>(budget / 2 / static_cast<double>(blocks) /
                                              (static_cast<double>(dim) * sizeof(float))));
  const uint64_t pool_rows = std::max<uint64_t>(share_end_ - share_begin_, 1);
  block_rows_ = std::min<uint64_t>(block_rows_, pool_rows);  // small pools: small blocks
  if (blocks == kStreamedBlocks) block_.resize(block_rows_ * dim);
}

void PoolStream::flush(Progress& progress) {
  const size_t rows = block_paths_.size();
  if (rows == 0) return;
  search_block(block_.data(), rows, block_first_, block_paths_, block_labels_, progress);
  block_first_ += rows;
  block_paths_.clear();
  block_labels_.clear();
}

void PoolStream::search_block(float* vectors, size_t rows, uint64_t first,
                              const std::vector<std::string>& paths,
                              const std::vector<std::optional<std::string>>& labels,
                              Progress& progress) {
  require_usable_vectors(vectors, rows, dim_, first, job_.source, job_.source_column, job_.metric);
  const auto label = [&](size_t i) { return labels.empty() ? std::nullopt : labels[i]; };
  if (search_ != nullptr) {
    search_->add_block(vectors, rows, first,
                       labels.empty() ? std::vector<std::optional<std::string>>(rows) : labels);
    if (search_->knows_best_so_far()) {
      remember_best(rows, first, paths, labels);
    } else {
      for (size_t i = 0; i < rows; ++i)
        seen_.emplace(first + i, PoolRowInfo{paths[i], label(i)});
    }
  }
  progress.advance(rows);
}

// Remembers what the outputs need of this block's rows that are now among the best, and
// forgets rows that dropped out of every list (bounding `seen` by the lists' size).
void PoolStream::remember_best(size_t rows, uint64_t first, const std::vector<std::string>& paths,
                               const std::vector<std::optional<std::string>>& labels) {
  const auto best = search_->results_so_far();
  for (const auto& hits : best) {
    for (const index::Neighbor& n : hits) {
      if (n.pool_row >= first && n.pool_row < first + rows) {
        const size_t i = n.pool_row - first;
        seen_.try_emplace(n.pool_row,
                          PoolRowInfo{paths[i], labels.empty() ? std::nullopt : labels[i]});
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
