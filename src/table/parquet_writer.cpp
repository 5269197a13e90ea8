#include "table/parquet_writer.h"

#include <optional>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/fault_injection.h"
#include "common/output_set.h"
#include "table/table_reader.h"
#include "table/vector_access.h"

namespace deft::table {

namespace fs = std::filesystem;

// The queue between append() and DuckDB's COPY, which pulls through the deft_feed table
// function. At most kCapacity chunks wait, so memory does not grow with the table.
struct ParquetWriter::Feed {
  static constexpr size_t kCapacity = 4;

  const std::vector<OutputColumn>* columns = nullptr;
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<DataChunk> queue;
  bool closed = false;         // commit(): no more chunks
  bool aborted = false;        // the writer gave up; COPY must fail
  bool copy_finished = false;  // COPY returned (success or failure)
  std::string copy_error;      // DuckDB's message when COPY failed
};

namespace {

constexpr const char* kFeedFunction = "deft_feed";

// Feeds by id, so that the table function never holds a pointer into a dead writer.
class FeedRegistry {
 public:
  static FeedRegistry& instance() {
    static FeedRegistry registry;
    return registry;
  }
  uint64_t add(std::shared_ptr<ParquetWriter::Feed> feed) {
    std::lock_guard lock(mutex_);
    const uint64_t id = next_id_++;
    feeds_[id] = std::move(feed);
    return id;
  }
  std::shared_ptr<ParquetWriter::Feed> find(uint64_t id) {
    std::lock_guard lock(mutex_);
    const auto it = feeds_.find(id);
    return it == feeds_.end() ? nullptr : it->second;
  }
  void remove(uint64_t id) {
    std::lock_guard lock(mutex_);
    feeds_.erase(id);
  }

 private:
  std::mutex mutex_;
  std::map<uint64_t, std::shared_ptr<ParquetWriter::Feed>> feeds_;
  uint64_t next_id_ = 1;
};

using FeedHandle = std::shared_ptr<ParquetWriter::Feed>;

void feed_bind(duckdb_bind_info info) {
  duckdb_value param = duckdb_bind_get_parameter(info, 0);
  const int64_t id = duckdb_get_int64(param);
  duckdb_destroy_value(&param);
  FeedHandle feed = FeedRegistry::instance().find(static_cast<uint64_t>(id));
  if (!feed) {
    duckdb_bind_set_error(info, "deft_feed: no such writer");
    return;
  }
  for (const OutputColumn& column : *feed->columns) {
    duckdb_bind_add_result_column(info, column.name.c_str(), column.type.get());
  }
  duckdb_bind_set_bind_data(info, new FeedHandle(std::move(feed)),
                            [](void* data) { delete static_cast<FeedHandle*>(data); });
}

void feed_init(duckdb_init_info info) {
  // One producer: rows must reach the file in append() order.
  duckdb_init_set_max_threads(info, 1);
}

void feed_pull(duckdb_function_info info, duckdb_data_chunk output) {
  ParquetWriter::Feed& feed = **static_cast<FeedHandle*>(duckdb_function_get_bind_data(info));
  DataChunk chunk;
  {
    std::unique_lock lock(feed.mutex);
    feed.changed.wait(lock, [&] { return !feed.queue.empty() || feed.closed || feed.aborted; });
    if (feed.aborted) {
      duckdb_function_set_error(info, "write aborted");
      return;
    }
    if (feed.queue.empty()) {  // closed and drained: end of table
      duckdb_data_chunk_set_size(output, 0);
      return;
    }
    chunk = std::move(feed.queue.front());
    feed.queue.pop_front();
  }
  feed.changed.notify_all();
  // Zero-copy: the output shares the chunk's buffers, which keeps them alive after `chunk`.
  const idx_t columns = duckdb_data_chunk_get_column_count(output);
  for (idx_t i = 0; i < columns; ++i) {
    duckdb_vector_reference_vector(duckdb_data_chunk_get_vector(output, i),
                                   duckdb_data_chunk_get_vector(chunk.get(), i));
  }
  duckdb_data_chunk_set_size(output, duckdb_data_chunk_get_size(chunk.get()));
}

void register_feed_function(Database& db) {
  std::call_once(db.feed_function_registered(), [&] {
    Connection con(db);
    TableFunction function(duckdb_create_table_function());
    duckdb_table_function_set_name(function.get(), kFeedFunction);
    LogicalType bigint(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
    duckdb_table_function_add_parameter(function.get(), bigint.get());
    duckdb_table_function_set_bind(function.get(), feed_bind);
    duckdb_table_function_set_init(function.get(), feed_init);
    duckdb_table_function_set_function(function.get(), feed_pull);
    if (duckdb_register_table_function(con.get(), function.get()) == DuckDBError) {
      throw Error(ErrorKind::kRun, "duckdb: cannot register the deft_feed table function");
    }
  });
}

// ", ROW_GROUP_SIZE n, KV_METADATA {...}" for a COPY ... (FORMAT parquet ...) statement.
std::string parquet_copy_options(const WriterOptions& options) {
  std::string sql;
  if (options.row_group_rows > 0) sql += fmt::format(", ROW_GROUP_SIZE {}", options.row_group_rows);
  if (!options.kv_metadata.empty()) {
    sql += ", KV_METADATA {";
    for (size_t i = 0; i < options.kv_metadata.size(); ++i) {
      const auto& [key, value] = options.kv_metadata[i];
      sql += fmt::format("{}{}: {}", i == 0 ? "" : ", ", sql_string_literal(key),
                         sql_string_literal(value));
    }
    sql += "}";
  }
  return sql;
}

// A finished temporary: into place now, or into the command's output set.
void place(const fs::path& temporary, const fs::path& output, OutputSet* set) {
  if (set != nullptr) {
    set->add(temporary, output);
  } else {
    move_into_place(temporary, output);
  }
}

std::string copy_statement(uint64_t feed_id, const fs::path& temporary,
                           const WriterOptions& options) {
  return fmt::format("COPY (SELECT * FROM {}({})) TO {} (FORMAT parquet{})", kFeedFunction, feed_id,
                     sql_string_literal(temporary.string()), parquet_copy_options(options));
}

}  // namespace

ParquetWriter::ParquetWriter(Database& db, fs::path output, std::vector<OutputColumn> columns,
                             const WriterOptions& options)
    : db_(db),
      output_(std::move(output)),
      columns_(std::move(columns)),
      output_set_(options.output_set) {
  DEFT_ASSERT(!columns_.empty(), "a parquet file needs at least one column");
  temporary_ = prepare_output(output_);
  register_feed_function(db_);

  feed_ = std::make_shared<Feed>();
  feed_->columns = &columns_;
  const uint64_t feed_id = FeedRegistry::instance().add(feed_);
  const std::string sql = copy_statement(feed_id, temporary_, options);
  const std::string context = fmt::format("writing '{}'", output_.string());

  copy_thread_ = std::thread([this, feed_id, sql, context, feed = feed_] {
    std::string error;
    try {
      Connection con(db_);
      con.execute(sql, context, ErrorKind::kRun);
    } catch (const std::exception& e) {
      error = e.what();
    }
    FeedRegistry::instance().remove(feed_id);
    {
      std::lock_guard lock(feed->mutex);
      feed->copy_finished = true;
      feed->copy_error = std::move(error);
      feed->queue.clear();
    }
    feed->changed.notify_all();
  });
}

ParquetWriter::~ParquetWriter() {
  if (!committed_) abort();
}

void ParquetWriter::append(DataChunk chunk) {
  DEFT_ASSERT(!committed_, "append after commit");
  fault::point("rows appended");
  DEFT_ASSERT(duckdb_data_chunk_get_column_count(chunk.get()) == columns_.size(),
              "chunk columns differ from the writer's");
  const idx_t rows = duckdb_data_chunk_get_size(chunk.get());
  DEFT_ASSERT(rows <= duckdb_vector_size(), "chunk larger than a DuckDB vector");
  if (rows == 0) return;
  {
    std::unique_lock lock(feed_->mutex);
    feed_->changed.wait(
        lock, [&] { return feed_->queue.size() < Feed::kCapacity || feed_->copy_finished; });
    if (feed_->copy_finished) {
      throw Error(ErrorKind::kRun, feed_->copy_error.empty()
                                       ? fmt::format("writing '{}' stopped early", output_.string())
                                       : feed_->copy_error);
    }
    feed_->queue.push_back(std::move(chunk));
  }
  feed_->changed.notify_all();
  rows_appended_ += rows;
}

void ParquetWriter::commit() {
  DEFT_ASSERT(!committed_, "commit twice");
  {
    std::lock_guard lock(feed_->mutex);
    feed_->closed = true;
  }
  feed_->changed.notify_all();
  copy_thread_.join();
  committed_ = true;  // from here on, nothing is left to abort
  if (!feed_->copy_error.empty()) {
    std::error_code ec;
    fs::remove(temporary_, ec);
    throw Error(ErrorKind::kRun, feed_->copy_error);
  }
  place(temporary_, output_, output_set_);
}

void ParquetWriter::abort() noexcept {
  if (copy_thread_.joinable()) {
    {
      std::lock_guard lock(feed_->mutex);
      feed_->aborted = true;
    }
    feed_->changed.notify_all();
    copy_thread_.join();
  }
  std::error_code ec;
  fs::remove(temporary_, ec);
}

void write_query(Database& db, const std::string& select_sql, const fs::path& output,
                 FileFormat format, const WriterOptions& options) {
  const fs::path temporary = prepare_output(output);
  try {
    Connection con(db);
    con.execute(
        fmt::format("COPY ({}) TO {} (FORMAT {})", select_sql,
                    sql_string_literal(temporary.string()),
                    format == FileFormat::kParquet ? "parquet" + parquet_copy_options(options)
                                                   : "csv, HEADER true"),
        fmt::format("writing '{}'", output.string()), ErrorKind::kRun);
  } catch (...) {
    std::error_code ec;
    fs::remove(temporary, ec);
    throw;
  }
  place(temporary, output, options.output_set);
}

void concatenate_parquet(Database& db, const std::vector<fs::path>& inputs, const fs::path& output,
                         const WriterOptions& options, const std::string& key_column) {
  DEFT_ASSERT(!inputs.empty(), "concatenate at least one file");
  std::optional<ParquetWriter> writer;
  std::vector<Column> columns;
  for (const fs::path& input : inputs) {
    TableReader reader(db, input, {.filepath_column = key_column});
    if (!writer) {
      columns = reader.columns();
      std::vector<OutputColumn> output_columns;
      for (size_t i = 0; i < columns.size(); ++i)
        output_columns.push_back({columns[i].name, reader.column_type_copy(i)});
      writer.emplace(db, output, std::move(output_columns), options);
    } else if (reader.columns() != columns) {
      throw Error(ErrorKind::kRun,
                  fmt::format("cannot concatenate '{}': its columns differ from those of '{}'",
                              input.string(), inputs.front().string()));
    }
    while (DataChunk chunk = reader.next_chunk())
      writer->append(std::move(chunk));
  }
  writer->commit();
}

std::map<std::string, std::string> read_kv_metadata(Database& db, const fs::path& table) {
  // A table folder: its first file's (mining checks that the files agree where it matters).
  const fs::path path = table_files(table).front();
  Connection con(db);
  Result result =
      con.query(fmt::format("SELECT key, value FROM parquet_kv_metadata({})",
                            sql_string_literal(path.string())),
                fmt::format("reading the metadata of '{}'", path.string()), ErrorKind::kInput);
  std::map<std::string, std::string> metadata;
  while (DataChunk chunk = result.fetch_chunk()) {
    duckdb_vector keys = duckdb_data_chunk_get_vector(chunk.get(), 0);
    duckdb_vector values = duckdb_data_chunk_get_vector(chunk.get(), 1);
    for (idx_t row = 0; row < duckdb_data_chunk_get_size(chunk.get()); ++row) {
      if (!is_valid(keys, row)) continue;
      metadata[std::string(string_at(keys, row))] =
          is_valid(values, row) ? std::string(string_at(values, row)) : std::string();
    }
  }
  return metadata;
}

std::vector<std::vector<std::optional<std::string>>> read_query_text(Database& db,
                                                                     const std::string& sql,
                                                                     std::string_view context) {
  Connection con(db);
  Result result = con.query(sql, context, ErrorKind::kRun);
  std::vector<std::vector<std::optional<std::string>>> rows;
  while (DataChunk chunk = result.fetch_chunk()) {
    const idx_t columns = duckdb_data_chunk_get_column_count(chunk.get());
    for (idx_t r = 0; r < duckdb_data_chunk_get_size(chunk.get()); ++r) {
      std::vector<std::optional<std::string>> row;
      for (idx_t c = 0; c < columns; ++c) {
        duckdb_vector v = duckdb_data_chunk_get_vector(chunk.get(), c);
        if (is_valid(v, r)) {
          row.emplace_back(string_at(v, r));
        } else {
          row.emplace_back(std::nullopt);
        }
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace deft::table
