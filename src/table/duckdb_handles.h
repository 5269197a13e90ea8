#pragma once
// RAII owners for the DuckDB C API handles deft uses, plus checked execution.
// Every duckdb_state is checked; failures become deft::Error carrying DuckDB's own message.
//
//   table::Database db;                       // in-memory, all cores
//   table::Connection con(db);
//   con.execute("CREATE TABLE t AS SELECT 1 AS x", "creating t", ErrorKind::kRun);
//   table::Result r = con.query("SELECT count(*) FROM t", "counting t", ErrorKind::kRun);

#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <duckdb.h>

#include "common/error.h"

namespace deft::table {

// Owns a handle whose destroy function takes a pointer to it (most of the DuckDB C API).
template <typename Handle, void (*Destroy)(Handle*)>
class Owned {
 public:
  Owned() = default;
  explicit Owned(Handle handle) : handle_(handle) {}
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  Owned(Owned&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Owned& operator=(Owned&& other) noexcept {
    reset(std::exchange(other.handle_, nullptr));
    return *this;
  }
  ~Owned() { reset(); }

  Handle get() const { return handle_; }
  // For C functions that return a new handle through an out-parameter.
  Handle* out() {
    reset();
    return &handle_;
  }
  Handle release() { return std::exchange(handle_, nullptr); }
  void reset(Handle handle = nullptr) {
    if (handle_ != nullptr) Destroy(&handle_);
    handle_ = handle;
  }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  Handle handle_ = nullptr;
};

using DataChunk = Owned<duckdb_data_chunk, duckdb_destroy_data_chunk>;
using LogicalType = Owned<duckdb_logical_type, duckdb_destroy_logical_type>;
using PreparedStatement = Owned<duckdb_prepared_statement, duckdb_destroy_prepare>;
using PendingResult = Owned<duckdb_pending_result, duckdb_destroy_pending>;
using TableFunction = Owned<duckdb_table_function, duckdb_destroy_table_function>;

// duckdb_destroy_selection_vector takes the handle by value, unlike the rest.
class SelectionVector {
 public:
  explicit SelectionVector(idx_t size) : sel_(duckdb_create_selection_vector(size)) {}
  SelectionVector(const SelectionVector&) = delete;
  SelectionVector& operator=(const SelectionVector&) = delete;
  ~SelectionVector() { duckdb_destroy_selection_vector(sel_); }
  duckdb_selection_vector get() const { return sel_; }
  sel_t* data() { return duckdb_selection_vector_get_data_ptr(sel_); }

 private:
  duckdb_selection_vector sel_;
};

// A materialised or streaming query result. Must be destroyed even when the query failed
// (the error text lives in it), which this owner does.
class Result {
 public:
  Result() = default;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  Result(Result&& other) noexcept
      : result_(other.result_), live_(std::exchange(other.live_, false)) {}
  Result& operator=(Result&& other) noexcept;
  ~Result() { reset(); }

  duckdb_result* out() {
    reset();
    live_ = true;
    return &result_;
  }
  duckdb_result* get() { return &result_; }
  void reset();
  const char* error() { return duckdb_result_error(&result_); }

  idx_t column_count() { return duckdb_column_count(&result_); }
  std::string column_name(idx_t col) { return duckdb_column_name(&result_, col); }
  // Fetches the next chunk (streaming or materialised); an empty owner at the end.
  DataChunk fetch_chunk() { return DataChunk(duckdb_fetch_chunk(result_)); }

 private:
  duckdb_result result_{};
  bool live_ = false;
};

struct DatabaseOptions {
  int threads = 0;           // 0: DuckDB's default (all cores)
  std::string memory_limit;  // empty: DuckDB's default (80% of RAM)
};

// An in-memory DuckDB instance: deft only uses it to read and write files.
class Database {
 public:
  explicit Database(const DatabaseOptions& options = {});
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();
  duckdb_database get() const { return db_; }
  // Table functions deft registers once per database (see parquet_writer.cpp).
  std::once_flag& feed_function_registered() { return feed_function_registered_; }

 private:
  duckdb_database db_ = nullptr;
  std::once_flag feed_function_registered_;
};

class Connection {
 public:
  explicit Connection(Database& db);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();
  duckdb_connection get() const { return con_; }

  // Runs `sql`; on failure throws Error(kind, "<context>: <DuckDB's message>").
  void execute(const std::string& sql, std::string_view context, ErrorKind kind);
  Result query(const std::string& sql, std::string_view context, ErrorKind kind);
  PreparedStatement prepare(const std::string& sql, std::string_view context, ErrorKind kind);

 private:
  duckdb_connection con_ = nullptr;
};

// Executes a prepared statement as a streaming result (rows are produced as they are fetched).
Result execute_streaming(PreparedStatement& statement, std::string_view context, ErrorKind kind);

// 'it''s' — a SQL string literal. File paths reach SQL this way because COPY and DESCRIBE
// take no prepared parameters; single quotes are the only character that needs escaping.
std::string sql_string_literal(std::string_view text);
// "col""name" — a quoted SQL identifier.
std::string sql_identifier(std::string_view name);
// DuckDB messages can span lines ("LINE 1: ..."); deft prints one line per error.
std::string first_line(std::string_view message);
// Every non-empty line of a message, trimmed, on one line.
std::string condensed(std::string_view message);
// DuckDB's error `message` as deft's: `context: ` and its first line (the whole text, and a
// hint, for the CSV sniffer's errors).
Error duckdb_error(ErrorKind kind, std::string_view context, const char* message);

}  // namespace deft::table
