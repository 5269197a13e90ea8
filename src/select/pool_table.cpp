#include "select/pool_table.h"

#include <algorithm>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "common/error.h"
#include "common/log.h"
#include "common/prefetch.h"
#include "common/spare_buffers.h"
#include "index/metric.h"
#include "mine/input_checks.h"
#include "parallel/cluster.h"
#include "table/embedding_table.h"
#include "table/parquet_share.h"
#include "table/path_base.h"
#include "table/table_reader.h"
#include "table/vector_access.h"

namespace deft::select {

namespace fs = std::filesystem;

namespace {
constexpr size_t kReadBlockBytes = size_t{32} << 20;
}  // namespace

void normalize_or_refuse(float* vectors, size_t rows, size_t dim, uint64_t first_row,
                         const fs::path& table, const std::string& column) {
  // L2 normalisation needs what cosine needs: finite values and a direction.
  mine::require_usable_vectors(vectors, rows, dim, first_row, table, column,
                               index::Metric::kCosine);
  const size_t normalised = index::normalize_rows(vectors, rows, dim);
  DEFT_ASSERT(normalised == rows, "finite rows with a non-zero value normalise");
}

PoolTable::PoolTable(table::Database& db, fs::path path, std::string filepath_column,
                     std::string vector_column, double memory_budget_mb)
    : db_(db),
      path_(std::move(path)),
      filepath_column_(std::move(filepath_column)),
      vector_column_(std::move(vector_column)),
      budget_bytes_(static_cast<size_t>(std::max(1.0, memory_budget_mb * 1024 * 1024))) {
  read_paths();
  share_ = parallel::Cluster::get().share(paths_.size());
  learn_dim();
  if (dim_ > 0 && table::detect_table_format(path_) == table::TableFormat::kParquet) {
    // A parquet file or a folder of them: blocks placed straight into memory by DuckDB's
    // parallel scan, ~4× the streamed chunks' rate; made once for every pass that reads.
    parquet_share_ = std::make_unique<table::ParquetShare>(
        db_, path_,
        table::ReadOptions{.columns = {filepath_column_, vector_column_},
                           .filepath_column = filepath_column_},
        [](const table::TableReader&) { return table::ParquetBlocks::Columns{.vector = 1}; },
        nullptr, vector_column_, share_.first, share_.second);
  }
  // Kept in memory when the share's vectors fit the budget; they are read (and checked) by the
  // first search, so a pool is read once before the first pass's results, not twice.
  in_memory_ = (share_.second - share_.first) * dim_ * sizeof(float) <= budget_bytes_;
}

void PoolTable::learn_dim() {
  if (share_.first >= share_.second) return;
  table::TableReader reader(db_, path_,
                            {.columns = {filepath_column_, vector_column_},
                             .first_row = share_.first,
                             .end_row = share_.first + 1,
                             .filepath_column = filepath_column_});
  table::DataChunk chunk = reader.next_chunk();
  if (!chunk) return;
  const std::string where = fmt::format("'{}' column '{}'", path_.string(), vector_column_);
  std::vector<float> first;
  table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), 1), reader.column_type(1), 1,
                           reader.row_range_applied() ? share_.first : 0, where, dim_, first);
}

void PoolTable::read_paths() {
  table::TableReader reader(db_, path_,
                            {.columns = {filepath_column_}, .filepath_column = filepath_column_});
  path_base_ = table::path_base_of(db_, reader);
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    const uint64_t first = reader.rows_read() - n;
    duckdb_vector column = duckdb_data_chunk_get_vector(chunk.get(), 0);
    for (idx_t i = 0; i < n; ++i) {
      if (!table::is_valid(column, i)) {
        throw Error(ErrorKind::kInput, fmt::format("'{}' column '{}' row {} is NULL",
                                                   path_.string(), filepath_column_, first + i));
      }
      paths_.emplace_back(table::string_at(column, i));
    }
  }
}

namespace {

// Gathers open rows into batches of kBatchRows for a RowsFn.
class Batcher {
 public:
  Batcher(size_t dim, const PoolTable::RowsFn& fn) : dim_(dim), fn_(fn) {}
  static constexpr size_t kBatchRows = 8192;

  // Rows [first, first + n) of `vectors` filtered by `open`; a block that is all open goes to
  // the callback as it is.
  void add_block(const float* vectors, uint64_t first, size_t n, const std::vector<bool>& open) {
    bool all = true;
    for (size_t i = 0; i < n && all; ++i)
      all = open[first + i];
    if (all) {
      flush();
      rows_.resize(n);
      for (size_t i = 0; i < n; ++i)
        rows_[i] = first + i;
      fn_(vectors, rows_.data(), n);
      rows_.clear();
      return;
    }
    for (size_t i = 0; i < n; ++i) {
      if (!open[first + i]) continue;
      float* slot = next_slot(first + i);
      std::copy_n(vectors + i * dim_, dim_, slot);
    }
  }
  // A slot for `row`'s vector (the caller fills it).
  float* next_slot(uint64_t row) {
    size_t granted = 0;
    return reserve(row, 1, granted);
  }
  // Contiguous slots for rows first… (at most `n`, as many as the batch has room for: `granted`).
  float* reserve(uint64_t first, size_t n, size_t& granted) {
    if (rows_.size() == kBatchRows) flush();
    if (buffer_.empty()) buffer_.resize(kBatchRows * dim_);
    granted = std::min(n, kBatchRows - rows_.size());
    float* slots = buffer_.data() + rows_.size() * dim_;
    for (size_t i = 0; i < granted; ++i)
      rows_.push_back(first + i);
    return slots;
  }
  void flush() {
    if (!rows_.empty()) fn_(buffer_.data(), rows_.data(), rows_.size());
    rows_.clear();
  }

 private:
  size_t dim_;
  const PoolTable::RowsFn& fn_;
  std::vector<float> buffer_;
  std::vector<uint64_t> rows_;
};

}  // namespace

void PoolTable::for_each_open_row(const std::vector<bool>& open, const RowsFn& fn) const {
  DEFT_ASSERT(open.size() == paths_.size(), "one flag per pool row");
  if (in_memory_ && !loaded_) {
    read_and_keep(open, fn);
    return;
  }
  Batcher batch(dim_, fn);
  const size_t share_rows = share_.second - share_.first;
  if (in_memory_) {
    for (size_t first = 0; first < share_rows; first += Batcher::kBatchRows) {
      const size_t n = std::min(Batcher::kBatchRows, share_rows - first);
      batch.add_block(vectors_.data() + first * dim_, share_.first + first, n, open);
    }
    batch.flush();
    return;
  }
  // Streamed again. Blocks read from the table stay small: the search works 256 rows at a
  // time whatever the block, and every byte of a block is memory beside the budget's pool (and
  // beside DuckDB's row group in flight).
  size_t dim = dim_;
  read_blocks(dim, std::min<size_t>(budget_bytes_ / 2, kReadBlockBytes),
              [&](const float* vectors, uint64_t first_row, size_t rows) {
                batch.add_block(vectors, first_row, rows, open);
              });
  batch.flush();
}

void PoolTable::read_and_keep(const std::vector<bool>& open, const RowsFn& fn) const {
  vectors_.clear();
  Batcher batch(dim_, fn);
  size_t dim = dim_;
  read_blocks(dim, std::min<size_t>(budget_bytes_ / 2, kReadBlockBytes),
              [&](const float* vectors, uint64_t first_row, size_t rows) {
                vectors_.insert(vectors_.end(), vectors, vectors + rows * dim_);
                batch.add_block(vectors, first_row, rows, open);
              });
  batch.flush();
  loaded_ = true;
}

std::vector<std::vector<float>> PoolTable::raw_vectors(const std::vector<uint64_t>& rows) const {
  std::vector<std::vector<float>> out;
  if (rows.empty()) return out;
  table::TableReader reader(
      db_, path_,
      {.columns = {filepath_column_, vector_column_}, .filepath_column = filepath_column_});
  const std::string where = fmt::format("'{}' column '{}'", path_.string(), vector_column_);
  std::vector<float> chunk_vectors;
  size_t next = 0;
  while (next < rows.size()) {
    table::DataChunk chunk = reader.next_chunk();
    if (!chunk) break;
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    const uint64_t first = reader.rows_read() - n;
    if (rows[next] >= first + n) continue;
    size_t dim = dim_;
    chunk_vectors.clear();
    table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), 1), reader.column_type(1), n,
                             first, where, dim, chunk_vectors);
    for (; next < rows.size() && rows[next] < first + n; ++next) {
      const float* v = chunk_vectors.data() + (rows[next] - first) * dim_;
      out.emplace_back(v, v + dim_);
    }
  }
  if (out.size() != rows.size()) {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}' changed while deft was reading it: row {} is gone",
                            path_.string(), rows[out.size()]));
  }
  return out;
}

void PoolTable::read_blocks(size_t& dim, size_t block_bytes, const BlockFn& on_block) const {
  if (share_.first >= share_.second) return;
  if (parquet_share_) {  // normalised and checked on the reading thread
    parquet_share_->read(
        dim, std::max<size_t>(1, block_bytes / (dim * sizeof(float))), /*yield=*/true,
        [&](table::ParquetShare::Block& b) {
          normalize_or_refuse(b.vectors.data(), b.rows, dim, b.first, path_, vector_column_);
        },
        [&](table::ParquetShare::Block& b) { on_block(b.vectors.data(), b.first, b.rows); });
    return;
  }
  // A CSV table (or a dimension still to learn): streamed, read a block ahead of the search.
  struct Block {
    std::vector<float> vectors;
    uint64_t first = 0;
  };
  SpareBuffers<std::vector<float>> spare;  // buffers the search is done with
  Prefetch<Block> ahead(
      1,
      [&](const Prefetch<Block>::Give& give) {
        table::TableReader reader(db_, path_,
                                  {.columns = {filepath_column_, vector_column_},
                                   .first_row = share_.first,
                                   .end_row = share_.second,
                                   .filepath_column = filepath_column_});
        // A CSV table is read whole: rows outside the share are skipped here.
        const uint64_t reader_base = reader.row_range_applied() ? share_.first : 0;
        const std::string where = fmt::format("'{}' column '{}'", path_.string(), vector_column_);
        std::vector<float> chunk_vectors;
        Block block{.vectors = spare.take(), .first = share_.first};
        block.vectors.clear();
        const auto flush = [&] {
          if (block.vectors.empty()) return true;
          const size_t n = block.vectors.size() / dim;
          normalize_or_refuse(block.vectors.data(), n, dim, block.first, path_, vector_column_);
          const uint64_t next_first = block.first + n;
          if (!give(std::move(block))) return false;
          block = Block{.vectors = spare.take(), .first = next_first};
          block.vectors.clear();
          return true;
        };
        while (table::DataChunk chunk = reader.next_chunk()) {
          const idx_t n = duckdb_data_chunk_get_size(chunk.get());
          const uint64_t first = reader_base + reader.rows_read() - n;
          if (first + n <= share_.first || first >= share_.second) continue;
          const uint64_t from = std::max(first, share_.first),
                         to = std::min(first + n, share_.second);
          // Reserved once: a vector that grew by doubling would briefly hold two copies of it.
          if (block.vectors.capacity() == 0 && dim > 0) {
            block.vectors.reserve(block_bytes / sizeof(float) + n * dim);
          }
          if (from == first && to == first + n) {  // the whole chunk: straight into the block
            table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), 1),
                                     reader.column_type(1), n, first, where, dim, block.vectors);
          } else {
            chunk_vectors.clear();
            table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), 1),
                                     reader.column_type(1), n, first, where, dim, chunk_vectors);
            block.vectors.insert(block.vectors.end(), chunk_vectors.begin() + (from - first) * dim,
                                 chunk_vectors.begin() + (to - first) * dim);
          }
          if (block.vectors.size() * sizeof(float) >= block_bytes && !flush()) return;
        }
        flush();
      },
      /*yield=*/true);
  while (std::optional<Block> block = ahead.next()) {
    on_block(block->vectors.data(), block->first, block->vectors.size() / dim);
    spare.give_back(std::move(block->vectors));
  }
}

}  // namespace deft::select
