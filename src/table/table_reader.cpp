#include "table/table_reader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>

#include <fmt/format.h>

#include "common/text.h"
#include "table/vector_access.h"

namespace deft::table {
namespace {

namespace fs = std::filesystem;

std::string column_list(const std::vector<Column>& columns) {
  std::string out;
  for (const Column& c : columns) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} ({})", c.name, c.sql_type);
  }
  return out.empty() ? "none" : out;
}

std::string parquet_sql(const std::vector<fs::path>& files) {
  std::string list;
  for (const fs::path& file : files)
    list += (list.empty() ? "" : ", ") + sql_string_literal(file.string());
  return fmt::format("read_parquet([{}])", list);
}

std::vector<Column> describe_source(Connection& con, const std::string& source,
                                    const std::string& context) {
  Result result = con.query("DESCRIBE SELECT * FROM " + source, context, ErrorKind::kInput);
  std::vector<Column> columns;
  while (DataChunk chunk = result.fetch_chunk()) {
    duckdb_vector names = duckdb_data_chunk_get_vector(chunk.get(), 0);
    duckdb_vector types = duckdb_data_chunk_get_vector(chunk.get(), 1);
    for (idx_t row = 0; row < duckdb_data_chunk_get_size(chunk.get()); ++row) {
      columns.push_back({std::string(string_at(names, row)), std::string(string_at(types, row))});
    }
  }
  return columns;
}

struct Source {
  std::string sql;
  std::vector<Column> columns;
};

std::string read_context(const fs::path& path, TableFormat format) {
  return fmt::format("reading {} table '{}'", format_name(format), path.string());
}

// `text_column`: besides filepath and label, a CSV column read as text verbatim. `quoted_empty`:
// a quoted empty CSV field ("") is an empty string, not NULL (an empty text is a text).
Source resolve_source(Connection& con, const fs::path& path, TableFormat format,
                      const std::string& text_column, bool quoted_empty) {
  if (format == TableFormat::kParquet) {
    const std::vector<fs::path> files = table_files(path);
    Source source{parquet_sql(files), {}};
    // One schema for every file of a folder: the first file that differs is named (DuckDB
    // would read differing files by position, or fail with a message that names none).
    for (const fs::path& file : files) {
      const std::vector<Column> columns =
          describe_source(con, parquet_sql({file}), read_context(file, format));
      if (file == files.front()) {
        source.columns = columns;
      } else if (columns != source.columns) {
        throw Error(ErrorKind::kInput,
                    fmt::format("table folder '{}': '{}' has the columns {}, but its first file "
                                "'{}' has {}",
                                path.string(), file.filename().string(), column_list(columns),
                                files.front().filename().string(), column_list(source.columns)),
                    "every parquet file of a table folder must have the same columns");
      }
    }
    return source;
  }
  const std::string quoted = quoted_empty ? ", allow_quoted_nulls = false" : "";
  Source source{
      fmt::format("read_csv({}, header = true{})", sql_string_literal(path.string()), quoted), {}};
  source.columns = describe_source(con, source.sql, read_context(path, format));

  // filepath and label are identifiers, not numbers: keep the text exactly as written
  // ("007" stays "007"). Other columns keep DuckDB's detected types.
  std::string types;
  for (const Column& c : source.columns) {
    if (c.name == kFilepathColumn || c.name == kLabelColumn || c.name == text_column) {
      types +=
          fmt::format("{}{}: 'VARCHAR'", types.empty() ? "" : ", ", sql_string_literal(c.name));
    }
  }
  if (!types.empty()) {
    source.sql = fmt::format("read_csv({}, header = true, types = {{{}}}{})",
                             sql_string_literal(path.string()), types, quoted);
    source.columns = describe_source(con, source.sql, read_context(path, format));
  }
  return source;
}

void require_readable_file(const fs::path& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    throw Error(ErrorKind::kInput, fmt::format("table '{}' not found", path.string()),
                "check the path; relative paths are taken from the current directory");
  }
}

}  // namespace

std::vector<fs::path> table_files(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return {path};
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    if (entry.path().extension() == ".parquet" && entry.is_regular_file(ec))
      files.push_back(entry.path());
  }
  if (files.empty()) {
    throw Error(ErrorKind::kInput,
                fmt::format("table folder '{}' has no .parquet files", path.string()),
                "a table may be a parquet or CSV file, or a folder of parquet files");
  }
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return files;
}

TableFormat detect_table_format(const fs::path& path) {
  require_readable_file(path);
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    table_files(path);  // throws for a folder without parquet files
    return TableFormat::kParquet;
  }
  fs::path name = path.filename();
  if (ascii_lower(name.extension().string()) == ".gz") name = name.stem();
  const std::string ext = ascii_lower(name.extension().string());
  if (ext == ".parquet" || ext == ".pq" || ext == ".parq") return TableFormat::kParquet;
  if (ext == ".csv" || ext == ".tsv" || ext == ".txt") return TableFormat::kCsv;

  // No telling extension: parquet files start with the magic "PAR1".
  std::array<char, 4> magic{};
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorKind::kInput, fmt::format("cannot open table '{}'", path.string()));
  }
  in.read(magic.data(), magic.size());
  if (in.gcount() == 4 && std::string_view(magic.data(), 4) == "PAR1") return TableFormat::kParquet;
  return TableFormat::kCsv;
}

const char* format_name(TableFormat format) {
  return format == TableFormat::kParquet ? "parquet" : "CSV";
}

TableReader::TableReader(Database& db, const fs::path& path, const ReadOptions& options)
    : db_(db), path_(path), format_(detect_table_format(path)), con_(db) {
  Source source =
      resolve_source(con_, path_, format_, options.filepath_column, options.quoted_empty_is_text);
  source_sql_ = std::move(source.sql);
  std::vector<Column>& all = source.columns;

  const std::string& filepath_name = options.filepath_column;
  const auto filepath = std::find_if(all.begin(), all.end(),
                                     [&](const Column& c) { return c.name == filepath_name; });
  if (filepath == all.end()) {
    throw Error(ErrorKind::kInput,
                fmt::format("{} table '{}' has no column '{}'; its columns: {}",
                            format_name(format_), path_.string(), filepath_name, column_list(all)),
                filepath_name == kFilepathColumn
                    ? "the column holding image paths must be named filepath"
                    : "");
  }
  if (filepath->sql_type != "VARCHAR") {
    throw Error(ErrorKind::kInput, fmt::format("column '{}' in '{}' is {}, not text (VARCHAR)",
                                               filepath_name, path_.string(), filepath->sql_type));
  }

  if (options.columns.empty()) {
    columns_ = all;
  } else {
    for (const std::string& name : options.columns) {
      const auto it =
          std::find_if(all.begin(), all.end(), [&](const Column& c) { return c.name == name; });
      if (it == all.end()) {
        throw Error(ErrorKind::kInput,
                    fmt::format("{} table '{}' has no column '{}'; its columns: {}",
                                format_name(format_), path_.string(), name, column_list(all)));
      }
      columns_.push_back(*it);
    }
    for (const std::string& name : options.optional_columns) {
      const auto it =
          std::find_if(all.begin(), all.end(), [&](const Column& c) { return c.name == name; });
      if (it != all.end()) columns_.push_back(*it);
    }
  }

  std::string select;
  for (const Column& c : columns_) {
    if (!select.empty()) select += ", ";
    select += sql_identifier(c.name);
  }
  std::string from = source_sql_;
  std::string where;
  std::error_code ec;
  if (format_ == TableFormat::kParquet && !fs::is_directory(path_, ec) &&
      (options.first_row > 0 || options.end_row != UINT64_MAX)) {
    // file_row_number is pushed down into the parquet scan: row groups outside are not read.
    from =
        fmt::format("read_parquet({}, file_row_number = true)", sql_string_literal(path_.string()));
    where = fmt::format(" WHERE file_row_number >= {} AND file_row_number < {}", options.first_row,
                        options.end_row);
    row_range_applied_ = true;
  }
  statement_ = con_.prepare(fmt::format("SELECT {} FROM {}{}", select, from, where), context(),
                            ErrorKind::kInput);
  stream_ = execute_streaming(statement_, context(), ErrorKind::kInput);
  for (idx_t i = 0; i < stream_.column_count(); ++i) {
    types_.emplace_back(duckdb_column_logical_type(stream_.get(), i));
  }
  const auto fp = find_column(filepath_name);
  filepath_column_ = fp.value_or(0);
  DEFT_ASSERT(types_.size() == columns_.size(), "result columns differ from the described ones");
}

LogicalType TableReader::column_type_copy(size_t index) const {
  return LogicalType(duckdb_column_logical_type(stream_.get(), index));
}

std::optional<size_t> TableReader::find_column(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return i;
  }
  return std::nullopt;
}

DataChunk TableReader::next_chunk() {
  if (finished_) return DataChunk();
  DataChunk chunk = stream_.fetch_chunk();
  if (!chunk) {
    finished_ = true;
    // A null chunk also ends a result that failed midway (e.g. a corrupt row group).
    const char* error = stream_.error();
    if (error != nullptr && *error != '\0') {
      throw duckdb_error(ErrorKind::kInput, context(), error);
    }
    return chunk;
  }
  rows_read_ += duckdb_data_chunk_get_size(chunk.get());
  return chunk;
}

uint64_t TableReader::count_rows() {
  // A second connection: a query on con_ would end the open streaming result.
  Connection con(db_);
  Result result = con.query("SELECT count(*) FROM " + source_sql_, context(), ErrorKind::kInput);
  DataChunk chunk = result.fetch_chunk();
  DEFT_ASSERT(chunk && duckdb_data_chunk_get_size(chunk.get()) == 1, "count(*) returns one row");
  return static_cast<const uint64_t*>(
      duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk.get(), 0)))[0];
}

std::string TableReader::context() const {
  return read_context(path_, format_);
}

}  // namespace deft::table
