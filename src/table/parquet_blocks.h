#pragma once
// Row ranges of one parquet file read straight into a caller's block, inside DuckDB's parallel
// scan: a scalar function registered on the reader's connection copies each scanned chunk's
// embeddings (and its text and optional extra column) to their rows, file_row_number − first,
// so no result is streamed or materialised. A streamed result copied every list twice and
// decoded on the fetching thread alone: 1M × 768 floats took ~12 s to read that way on the
// 2-core Xeon, ~3 s this way.
//
//   table::ParquetBlocks blocks(db, reader, {.vector = 1, .text = 0, .extra = label}, where);
//   table::ParquetBlocks::Block block;
//   blocks.read(first, rows, dim, block);   // block.vectors: rows × dim, block.texts, ...
//
// Only a single parquet file (not a folder, not CSV): is_single_parquet() tells.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "table/duckdb_handles.h"
#include "table/table_reader.h"

namespace deft::table {

bool is_single_parquet(const TableReader& reader);

class ParquetBlocks {
 public:
  // Indices into the schema reader's columns.
  struct Columns {
    size_t vector = 0;            // FLOAT[] / DOUBLE[] / FLOAT[n] / DOUBLE[n]
    std::optional<size_t> text;   // VARCHAR (NULL reads as ""); none: texts stay empty
    std::optional<size_t> extra;  // any type, through `extra_value`
  };
  // Converts row `row` of the extra column's vector (nullopt: NULL).
  using ExtraValue =
      std::function<std::optional<std::string>(duckdb_vector, duckdb_logical_type, idx_t)>;

  // `schema`: a reader of the same file, for its path and column types. `where` names the
  // vector column in errors ("'pool.parquet' column 'embedding'").
  ParquetBlocks(Database& db, const TableReader& schema, Columns columns, ExtraValue extra_value,
                std::string where);
  ~ParquetBlocks();
  ParquetBlocks(const ParquetBlocks&) = delete;
  ParquetBlocks& operator=(const ParquetBlocks&) = delete;

  struct Block {
    uint64_t first = 0;
    size_t rows = 0;
    std::vector<float> vectors;                      // rows × dim
    std::vector<std::string> texts;                  // empty without a text column
    std::vector<std::optional<std::string>> extras;  // empty without an extra column
  };

  // The length of the embedding in file row `row`; nullopt when that row has none (NULL) or
  // the file has no such row.
  std::optional<size_t> dimension_at(uint64_t row);

  // File rows [first, first + rows) into `block` (its buffers reused). Throws Error(kInput)
  // naming `where` and the file row for a NULL embedding or one of another length than `dim`,
  // and naming the file when DuckDB cannot read it or it has fewer rows.
  void read(uint64_t first, size_t rows, size_t dim, Block& block);

  // What the registered function writes through (defined in the .cpp).
  struct State;

 private:
  std::filesystem::path path_;
  Connection con_;
  std::string function_name_;
  std::string columns_sql_;  // the function's arguments after file_row_number
  std::string vector_sql_;   // the vector column's name, quoted
  std::unique_ptr<State> state_;
};

}  // namespace deft::table
