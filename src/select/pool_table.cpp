#include "select/pool_table.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"
#include "index/metric.h"
#include "mine/input_checks.h"
#include "parallel/cluster.h"
#include "table/embedding_table.h"
#include "table/path_base.h"
#include "table/table_reader.h"
#include "table/vector_access.h"

namespace deft::select {

namespace fs = std::filesystem;

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
  // The first read learns the dimension and keeps the vectors while they fit. Its blocks stay
  // small (≤ 128 MB) so that a pool kept in memory is not held twice.
  in_memory_ = true;
  read_blocks(dim_, std::min<size_t>(budget_bytes_ / 2, size_t{128} << 20),
              [this](const float* vectors, uint64_t, size_t rows) {
                if (!in_memory_) return;
                vectors_.insert(vectors_.end(), vectors, vectors + rows * dim_);
                if (vectors_.size() * sizeof(float) > budget_bytes_) {
                  in_memory_ = false;
                  std::vector<float>().swap(vectors_);
                }
              });
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

void PoolTable::for_each_block(const BlockFn& fn) const {
  if (!in_memory_) {
    // Streamed again: blocks of half the budget (fewer, larger blocks; each one's candidates
    // are re-scored).
    size_t dim = dim_;
    read_blocks(dim, budget_bytes_ / 2, fn);
    return;
  }
  const size_t share_rows = share_.second - share_.first;
  const size_t block = std::max<size_t>(1, budget_bytes_ / 2 / (std::max<size_t>(dim_, 1) * 4));
  for (size_t first = 0; first < share_rows; first += block)
    fn(vectors_.data() + first * dim_, share_.first + first, std::min(block, share_rows - first));
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
  table::TableReader reader(db_, path_,
                            {.columns = {filepath_column_, vector_column_},
                             .first_row = share_.first,
                             .end_row = share_.second,
                             .filepath_column = filepath_column_});
  // A folder or CSV is read whole: rows outside the share are skipped here.
  const uint64_t reader_base = reader.row_range_applied() ? share_.first : 0;
  const std::string where = fmt::format("'{}' column '{}'", path_.string(), vector_column_);
  std::vector<float> chunk_vectors;
  std::vector<float> block;
  uint64_t block_first = share_.first;
  const auto flush = [&] {
    if (block.empty()) return;
    const size_t n = block.size() / dim;
    normalize_or_refuse(block.data(), n, dim, block_first, path_, vector_column_);
    on_block(block.data(), block_first, n);
    block_first += n;
    block.clear();
  };
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    const uint64_t first = reader_base + reader.rows_read() - n;
    if (first + n <= share_.first || first >= share_.second) continue;
    chunk_vectors.clear();
    table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), 1), reader.column_type(1), n,
                             first, where, dim, chunk_vectors);
    const uint64_t from = std::max(first, share_.first), to = std::min(first + n, share_.second);
    // Reserved once: a vector that grew by doubling would briefly hold two copies of the block.
    if (block.capacity() == 0) block.reserve(block_bytes / sizeof(float) + chunk_vectors.size());
    block.insert(block.end(), chunk_vectors.begin() + (from - first) * dim,
                 chunk_vectors.begin() + (to - first) * dim);
    if (block.size() * sizeof(float) >= block_bytes) flush();
  }
  flush();
}

}  // namespace deft::select
