#pragma once
// Streaming reader for the tables deft takes: parquet or CSV with a `filepath` column.
//
//   table::Database db;
//   table::TableReader reader(db, "targets.parquet");
//   while (table::DataChunk chunk = reader.next_chunk()) {
//     duckdb_vector paths = duckdb_data_chunk_get_vector(chunk.get(), reader.filepath_column());
//     ...
//   }
//
// Rows come in file order, at most 2048 per chunk, and only one chunk at a time is held, so a
// table of any length streams in bounded memory. CSV columns `filepath` and `label` are read
// as text, verbatim; every other CSV column gets DuckDB's detected type.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "table/duckdb_handles.h"

namespace deft::table {

enum class TableFormat { kParquet, kCsv };

// By extension (.parquet/.pq/.parq, .csv/.tsv/.txt, optionally .gz), else by content
// (parquet's PAR1 magic; text otherwise); a folder is parquet (its *.parquet files). Throws
// Error(kInput) for a missing file and a folder without *.parquet files.
TableFormat detect_table_format(const std::filesystem::path& path);

// The files a table path names: the file itself, or a folder's *.parquet files in sorted name
// order, read as one table (tao-compat.md). Throws Error(kInput) for an empty folder.
std::vector<std::filesystem::path> table_files(const std::filesystem::path& path);
const char* format_name(TableFormat format);

struct Column {
  std::string name;
  std::string sql_type;  // as DuckDB spells it: VARCHAR, BIGINT, FLOAT[], STRUCT(a INTEGER), ...
  bool operator==(const Column&) const = default;
};

struct ReadOptions {
  // Columns to read, in this order; empty reads every column in file order.
  std::vector<std::string> columns;
  // Read after `columns` when the table has them (find_column tells); absent ones are skipped.
  std::vector<std::string> optional_columns;
  // Parquet only: rows [first_row, end_row) of the file (its row groups outside are skipped).
  // A CSV table and a folder of parquet files are read whole; row_range_applied() tells.
  uint64_t first_row = 0;
  uint64_t end_row = UINT64_MAX;
  // The text column naming each row's image (unique matching lets the user name it), or
  // holding each row's text (text embeddings); read from CSV as text, verbatim.
  std::string filepath_column = "filepath";
  // CSV: a quoted empty field ("") is an empty string rather than NULL (DuckDB's default makes
  // it NULL): for text tables, where an empty text is a value.
  bool quoted_empty_is_text = false;
};

inline constexpr const char* kFilepathColumn = "filepath";
inline constexpr const char* kLabelColumn = "label";

class TableReader {
 public:
  // Throws Error(kInput) naming the file when it is missing, unreadable, not a table, lacks a
  // text `filepath` column (options.filepath_column) (the message lists the columns it has) or
  // lacks a requested column; for a folder, naming the first file whose columns differ from the
  // first file's.
  TableReader(Database& db, const std::filesystem::path& path, const ReadOptions& options = {});

  const std::filesystem::path& path() const { return path_; }
  TableFormat format() const { return format_; }
  // The columns this reader returns, in chunk order.
  const std::vector<Column>& columns() const { return columns_; }
  duckdb_logical_type column_type(size_t index) const { return types_[index].get(); }
  // A new, caller-owned copy of a column's type (e.g. to declare an output column).
  LogicalType column_type_copy(size_t index) const;
  std::optional<size_t> find_column(std::string_view name) const;
  size_t filepath_column() const { return filepath_column_; }
  std::optional<size_t> label_column() const { return find_column(kLabelColumn); }

  bool row_range_applied() const { return row_range_applied_; }

  // The next chunk of rows, or an empty DataChunk after the last one.
  DataChunk next_chunk();
  uint64_t rows_read() const { return rows_read_; }

  // Counts the rows without reading them (parquet: from the footer; CSV: one scan).
  uint64_t count_rows();

 private:
  std::string context() const;

  Database& db_;
  std::filesystem::path path_;
  TableFormat format_;
  std::string source_sql_;  // e.g. read_parquet('a.parquet')
  Connection con_;
  std::vector<Column> columns_;
  std::vector<LogicalType> types_;
  size_t filepath_column_ = 0;
  bool row_range_applied_ = false;
  PreparedStatement statement_;
  mutable Result stream_;
  uint64_t rows_read_ = 0;
  bool finished_ = false;
};

}  // namespace deft::table
