#include "table/duckdb_handles.h"

#include <fmt/format.h>

namespace deft::table {

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    reset();
    result_ = other.result_;
    live_ = std::exchange(other.live_, false);
  }
  return *this;
}

void Result::reset() {
  if (live_) duckdb_destroy_result(&result_);
  live_ = false;
  result_ = {};
}

Database::Database(const DatabaseOptions& options) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) {
    throw Error(ErrorKind::kRun, "duckdb: cannot create a configuration");
  }
  auto set = [&](const char* name, const std::string& value) {
    if (duckdb_set_config(config, name, value.c_str()) == DuckDBError) {
      duckdb_destroy_config(&config);
      throw Error(ErrorKind::kRun, fmt::format("duckdb: cannot set {} = {}", name, value));
    }
  };
  // No network at run time: never download an extension, whatever a query asks for.
  set("autoinstall_known_extensions", "false");
  if (options.threads > 0) set("threads", std::to_string(options.threads));
  if (!options.memory_limit.empty()) set("memory_limit", options.memory_limit);

  char* error = nullptr;
  const duckdb_state state = duckdb_open_ext(nullptr, &db_, config, &error);
  duckdb_destroy_config(&config);
  if (state == DuckDBError) {
    std::string message = error != nullptr ? error : "unknown error";
    duckdb_free(error);
    throw Error(ErrorKind::kRun, "duckdb: cannot open an in-memory database: " + message);
  }
}

Database::~Database() {
  duckdb_close(&db_);
}

Connection::Connection(Database& db) {
  if (duckdb_connect(db.get(), &con_) == DuckDBError) {
    throw Error(ErrorKind::kRun, "duckdb: cannot open a connection");
  }
}

Connection::~Connection() {
  duckdb_disconnect(&con_);
}

Error duckdb_error(ErrorKind kind, std::string_view context, const char* message) {
  const std::string_view text = message != nullptr ? message : "unknown DuckDB error";
  // The CSV sniffer's first line says only that sniffing failed; what it tried and why is in
  // the lines after, so they are kept (on one line).
  if (text.find("Error when sniffing file") != std::string_view::npos) {
    // Its "Possible fixes" are read_csv options a deft user cannot pass: the hint replaces them.
    const std::string_view said = text.substr(0, text.find("Possible fixes:"));
    return Error(kind, fmt::format("{}: {}", context, condensed(said)),
                 "a CSV whose rows end differently (CRLF and LF mixed) or have different numbers "
                 "of fields cannot be read: save it again with one kind of line ending and one "
                 "field per column, or convert it to parquet");
  }
  return Error(kind, fmt::format("{}: {}", context, first_line(text)));
}

void Connection::execute(const std::string& sql, std::string_view context, ErrorKind kind) {
  query(sql, context, kind);
}

Result Connection::query(const std::string& sql, std::string_view context, ErrorKind kind) {
  Result result;
  if (duckdb_query(con_, sql.c_str(), result.out()) == DuckDBError) {
    throw duckdb_error(kind, context, result.error());
  }
  return result;
}

PreparedStatement Connection::prepare(const std::string& sql, std::string_view context,
                                      ErrorKind kind) {
  PreparedStatement statement;
  if (duckdb_prepare(con_, sql.c_str(), statement.out()) == DuckDBError) {
    throw duckdb_error(kind, context, duckdb_prepare_error(statement.get()));
  }
  return statement;
}

Result execute_streaming(PreparedStatement& statement, std::string_view context, ErrorKind kind) {
  PendingResult pending;
  if (duckdb_pending_prepared_streaming(statement.get(), pending.out()) == DuckDBError) {
    throw duckdb_error(kind, context, duckdb_pending_error(pending.get()));
  }
  Result result;
  if (duckdb_execute_pending(pending.get(), result.out()) == DuckDBError) {
    throw duckdb_error(kind, context, result.error());
  }
  return result;
}

std::string sql_string_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string sql_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string condensed(std::string_view message) {
  std::string out;
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string_view::npos) end = message.size();
    std::string_view line = message.substr(start, end - start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r'))
      line.remove_suffix(1);
    while (!line.empty() && line.front() == ' ')
      line.remove_prefix(1);
    if (!line.empty()) {
      if (!out.empty()) out += ' ';
      out.append(line);
    }
    start = end + 1;
  }
  return out;
}

std::string first_line(std::string_view message) {
  const auto end = message.find('\n');
  std::string line(message.substr(0, end));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r'))
    line.pop_back();
  return line;
}

}  // namespace deft::table
