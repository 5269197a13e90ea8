#include "select/pool_table.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"
#include "index/metric.h"
#include "table/embedding_table.h"
#include "table/table_reader.h"
#include "table/vector_access.h"

namespace deft::select {

namespace fs = std::filesystem;

void normalize_or_refuse(float* vectors, size_t rows, size_t dim, uint64_t first_row,
                         const std::string& where) {
  const size_t bad = index::normalize_rows(vectors, rows, dim);
  if (bad == rows) return;
  throw Error(
      ErrorKind::kInput,
      fmt::format("{} row {}: the embedding is all zeros or not finite", where, first_row + bad),
      "every row needs a usable embedding; re-embed or drop that row");
}

PoolTable::PoolTable(table::Database& db, fs::path path, std::string filepath_column,
                     std::string vector_column, double memory_budget_mb)
    : db_(db),
      path_(std::move(path)),
      filepath_column_(std::move(filepath_column)),
      vector_column_(std::move(vector_column)),
      budget_bytes_(static_cast<size_t>(std::max(1.0, memory_budget_mb * 1024 * 1024))) {
  // The first read records the paths and the dimension, and keeps the vectors while they fit.
  in_memory_ = true;
  read_blocks(
      dim_,
      [this](const float* vectors, uint64_t, size_t rows) {
        if (!in_memory_) return;
        vectors_.insert(vectors_.end(), vectors, vectors + rows * dim_);
        if (vectors_.size() * sizeof(float) > budget_bytes_) {
          in_memory_ = false;
          std::vector<float>().swap(vectors_);
        }
      },
      [this](const std::vector<std::string>& paths) {
        paths_.insert(paths_.end(), paths.begin(), paths.end());
      });
}

void PoolTable::for_each_block(const BlockFn& fn) const {
  if (!in_memory_) {
    size_t dim = dim_;
    read_blocks(dim, fn, nullptr);
    return;
  }
  const size_t block = std::max<size_t>(1, budget_bytes_ / 2 / (std::max<size_t>(dim_, 1) * 4));
  for (size_t first = 0; first < rows(); first += block)
    fn(vectors_.data() + first * dim_, first, std::min(block, rows() - first));
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

void PoolTable::read_blocks(size_t& dim, const BlockFn& on_block, const PathsFn& on_paths) const {
  table::TableReader reader(
      db_, path_,
      {.columns = {filepath_column_, vector_column_}, .filepath_column = filepath_column_});
  const std::string where = fmt::format("'{}' column '{}'", path_.string(), vector_column_);
  std::vector<float> block;
  std::vector<std::string> paths;
  uint64_t block_first = 0;
  const auto flush = [&] {
    if (block.empty()) return;
    const size_t n = block.size() / dim;
    normalize_or_refuse(block.data(), n, dim, block_first, where);
    on_block(block.data(), block_first, n);
    block_first += n;
    block.clear();
  };
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    const uint64_t first = reader.rows_read() - n;
    table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), 1), reader.column_type(1), n,
                             first, where, dim, block);
    if (on_paths) {
      duckdb_vector column = duckdb_data_chunk_get_vector(chunk.get(), 0);
      paths.clear();
      for (idx_t i = 0; i < n; ++i) {
        if (!table::is_valid(column, i)) {
          throw Error(ErrorKind::kInput, fmt::format("'{}' column '{}' row {} is NULL",
                                                     path_.string(), filepath_column_, first + i));
        }
        paths.emplace_back(table::string_at(column, i));
      }
      on_paths(paths);
    }
    if (block.size() * sizeof(float) >= budget_bytes_ / 2) flush();
  }
  flush();
}

}  // namespace deft::select
