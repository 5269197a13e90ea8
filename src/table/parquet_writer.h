#pragma once
// Streaming, atomic parquet writer.
//
//   std::vector<table::OutputColumn> columns = ...;           // names + DuckDB logical types
//   table::ParquetWriter writer(db, "out.parquet", std::move(columns),
//                               {.kv_metadata = {{"deft.encoder", fingerprint_json}}});
//   for (...) writer.append(std::move(chunk));                 // chunks of <= 2048 rows
//   writer.commit();                                           // now out.parquet exists
//
// Rows go to a hidden temporary file beside the output; commit() renames it into place.
// A writer destroyed without commit() (an exception, a failed stage) removes the temporary
// file, so a failed run never leaves a partial file at the output path. Memory is bounded by
// a few queued chunks plus one row group, whatever the number of rows.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "table/duckdb_handles.h"

namespace deft {
class OutputSet;
}

namespace deft::table {

struct OutputColumn {
  std::string name;
  LogicalType type;
};

struct WriterOptions {
  std::vector<std::pair<std::string, std::string>> kv_metadata;  // parquet footer key-value pairs
  uint64_t row_group_rows = 0;  // 0: DuckDB's default (122,880 rows)
  // Set: the finished file joins this set (committed with the command's other outputs)
  // instead of moving into place at commit().
  OutputSet* output_set = nullptr;
};

class ParquetWriter {
 public:
  ParquetWriter(Database& db, std::filesystem::path output, std::vector<OutputColumn> columns,
                const WriterOptions& options = {});
  ParquetWriter(const ParquetWriter&) = delete;
  ParquetWriter& operator=(const ParquetWriter&) = delete;
  ~ParquetWriter();

  const std::vector<OutputColumn>& columns() const { return columns_; }
  // Queues a chunk whose columns match columns() in number and type, at most 2048 rows.
  // Blocks while the queue is full. Throws Error(kRun) if the write has failed.
  void append(DataChunk chunk);
  // Writes the footer, flushes to disk and renames the file into place (or hands it to the
  // options' output set).
  void commit();
  uint64_t rows_appended() const { return rows_appended_; }

  // Shared with the deft_feed table function (internal).
  struct Feed;

 private:
  void abort() noexcept;

  Database& db_;
  std::filesystem::path output_;
  std::filesystem::path temporary_;
  std::vector<OutputColumn> columns_;
  std::shared_ptr<Feed> feed_;
  std::thread copy_thread_;
  uint64_t rows_appended_ = 0;
  OutputSet* output_set_ = nullptr;
  bool committed_ = false;
};

enum class FileFormat { kParquet, kCsv };

// Writes the rows of `select_sql` to `output` atomically (temporary file, then rename), for
// outputs that SQL computes (summaries, reports, generated examples, concatenations).
// `options` apply to parquet outputs.
void write_query(Database& db, const std::string& select_sql, const std::filesystem::path& output,
                 FileFormat format, const WriterOptions& options = {});

// Key-value metadata of a parquet file's footer, as strings.
// Concatenates parquet files that have the same columns into `output`, in order, streaming:
// memory is a few chunks and one row group. (DuckDB's COPY (SELECT * FROM read_parquet([...]))
// gathers most of the table in memory when it keeps the row order.) Throws Error(kRun) naming
// a file whose columns differ from the first file's. `key_column`: the text column the files
// must have (`filepath`; `text` for text embeddings).
void concatenate_parquet(Database& db, const std::vector<std::filesystem::path>& inputs,
                         const std::filesystem::path& output, const WriterOptions& options = {},
                         const std::string& key_column = "filepath");

std::map<std::string, std::string> read_kv_metadata(Database& db,
                                                    const std::filesystem::path& path);

// Every row of a small query whose columns are all text (VARCHAR or BLOB; cast others in the
// SQL), NULL as nullopt: for reports and summaries. Throws Error(kRun) naming `context`.
std::vector<std::vector<std::optional<std::string>>> read_query_text(Database& db,
                                                                     const std::string& sql,
                                                                     std::string_view context);

}  // namespace deft::table
