#pragma once
// The embedding parquet: every input column carried through unchanged (name, order, type,
// value), plus `embedding FLOAT[]` — in place of an input column of that name, else last.
//
//   table::TableReader input(db, "pool.parquet");
//   table::EmbeddingTableWriter out(db, input, "pool_emb.parquet", 768, {.kv_metadata = meta});
//   while (table::DataChunk chunk = input.next_chunk()) {
//     // rows: ascending indices of the chunk's rows that were embedded; vectors: rows × 768
//     out.append(chunk, rows, vectors);
//   }
//   out.commit();

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "table/parquet_writer.h"
#include "table/table_reader.h"

namespace deft::table {

inline constexpr const char* kEmbeddingColumn = "embedding";
// What each embedded image file was when it was read, so a later run can reuse the row when
// the file has not changed: STRUCT(size BIGINT, mtime_ns BIGINT, xxh3_128 VARCHAR).
inline constexpr const char* kFileIdentityColumn = "deft_file";

struct FileIdentity {
  int64_t size = 0;
  int64_t mtime_ns = 0;
  std::string xxh3_128;  // 32 hex digits of the file's bytes
};

class EmbeddingTableWriter {
 public:
  // with_file_identity: also write kFileIdentityColumn (in place of an input column of that
  // name, else last).
  EmbeddingTableWriter(Database& db, const TableReader& input, std::filesystem::path output,
                       size_t dim, WriterOptions options = {}, bool with_file_identity = false);

  // Appends the rows `rows` (ascending indices into `input_chunk`, a chunk of `input`) with
  // their embeddings, `rows.size() × dim` floats, row-major, and (with_file_identity) one
  // identity per row.
  void append(const DataChunk& input_chunk, std::span<const idx_t> rows,
              std::span<const float> embeddings, std::span<const FileIdentity> identities = {});
  void commit() { writer_.commit(); }
  uint64_t rows_written() const { return writer_.rows_appended(); }
  size_t embedding_column() const { return embedding_column_; }

 private:
  // For each output column, the input column it carries; kEmbedding for the embedding.
  static constexpr size_t kEmbedding = static_cast<size_t>(-1);
  static constexpr size_t kIdentity = static_cast<size_t>(-2);
  std::vector<size_t> sources_;
  size_t embedding_column_ = 0;
  size_t identity_column_ = kIdentity;  // kIdentity: none
  size_t dim_;
  ParquetWriter writer_;
};

// Rows per row group for embeddings of `dim` floats: row groups are buffered whole while
// writing, so they are capped by bytes (32 MiB of embeddings), not rows.
uint64_t embedding_row_group_rows(size_t dim);

// Row-major float rows from a FLOAT[] / DOUBLE[] (list) or FLOAT[n] / DOUBLE[n] (array) vector
// (doubles narrowed to float).
// Appends `count` rows to `out`. `dim` is the length every row must have; 0 means "take it
// from the first row" and is then set. A NULL row or a row of another length throws
// Error(kInput) naming `where` and the row number (first_row + index, counting from 0).
void append_float_rows(duckdb_vector vector, duckdb_logical_type type, idx_t count,
                       uint64_t first_row, std::string_view where, size_t& dim,
                       std::vector<float>& out);
// The same checks, for rows whose file row numbers `row_numbers` say where they go: row i is
// written to out + (row_numbers[i] − first_row)·dim (a parallel scan hands rows over in any
// order). Errors name the file row number.
void place_float_rows(duckdb_vector vector, duckdb_logical_type type, idx_t count,
                      const int64_t* row_numbers, uint64_t first_row, std::string_view where,
                      size_t dim, float* out);

}  // namespace deft::table
