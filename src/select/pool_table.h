#pragma once
// The pool of a unique-matching run: every row's filepath held (files, exclusions and the
// filepath tie-break need them), its vectors L2-normalised. The dimension is learnt from the
// first row; the vectors are read from the table, and checked (finite, not all zero, one
// dimension), by the first search, in blocks of at most 32 MB read a block ahead on their own
// thread; they are then kept in memory when they fit memory_budget_mb, and read again by every
// search otherwise. (A scratch copy of a larger pool was measured slower here: fresh page
// cache on these VMs fills at ~100 MB/s, slower than DuckDB decodes the table.)
//
//   PoolTable pool(db, "pool.parquet", "filepath", "embedding", 1024);
//   pool.for_each_open_row(open, [&](const float* v, const uint64_t* rows, size_t n) { ... });
//
// Under mpirun each rank holds every row's path but searches only its share of the rows
// (parallel::Cluster::share); a parquet pool (a file or a folder of files) is then read only
// for those rows' row groups (table/parquet_share.h), a CSV pool whole.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "table/duckdb_handles.h"
#include "table/parquet_share.h"

namespace deft::select {

class PoolTable {
 public:
  PoolTable(table::Database& db, std::filesystem::path path, std::string filepath_column,
            std::string vector_column, double memory_budget_mb);

  size_t rows() const { return paths_.size(); }
  uint64_t share_begin() const { return share_.first; }
  uint64_t share_end() const { return share_.second; }
  size_t dim() const { return dim_; }
  const std::vector<std::string>& paths() const { return paths_; }
  // Where the table's relative filepaths point (table::path_base_of).
  const std::filesystem::path& path_base() const { return path_base_; }
  bool in_memory() const { return in_memory_; }

  // The vectors of `rows` as the table holds them (not normalised), read again from the table:
  // what save_embeddings writes. `rows`: sorted, distinct.
  std::vector<std::vector<float>> raw_vectors(const std::vector<uint64_t>& rows) const;

  using RowsFn = std::function<void(const float* vectors, const uint64_t* rows, size_t n)>;
  // Every row of the share with open[row] set: its normalised vector, in row order, a batch of
  // rows (`rows` increasing) at a time. `open` has one entry per pool row.
  void for_each_open_row(const std::vector<bool>& open, const RowsFn& fn) const;

 private:
  void read_paths();
  void learn_dim();
  using BlockFn = std::function<void(const float* vectors, uint64_t first_row, size_t rows)>;
  // One read of the share's vectors in blocks of at most `block_bytes`, normalised and
  // checked. `dim`: 0 learns it from the first row.
  void read_blocks(size_t& dim, size_t block_bytes, const BlockFn& on_block) const;
  // The first read of a pool that fits the budget: it keeps the vectors.
  void read_and_keep(const std::vector<bool>& open, const RowsFn& fn) const;

  table::Database& db_;
  std::filesystem::path path_;
  std::string filepath_column_;
  std::string vector_column_;
  size_t budget_bytes_;
  std::pair<uint64_t, uint64_t> share_;
  size_t dim_ = 0;
  std::vector<std::string> paths_;
  std::filesystem::path path_base_;
  bool in_memory_ = false;
  mutable bool loaded_ = false;         // the first search has read them (and kept them)
  mutable std::vector<float> vectors_;  // rows × dim when in memory
  // A parquet pool's reader (table/parquet_share.h), for every read; null for a CSV pool.
  std::unique_ptr<table::ParquetShare> parquet_share_;
};

// Scales rows to unit L2 norm, after mine::require_usable_vectors has refused (naming the
// table, column and rows) any that is not finite or all zero.
void normalize_or_refuse(float* vectors, size_t rows, size_t dim, uint64_t first_row,
                         const std::filesystem::path& table, const std::string& column);

}  // namespace deft::select
