#include "table/parquet_blocks.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "common/error.h"
#include "table/embedding_table.h"
#include "table/vector_access.h"

namespace deft::table {

namespace fs = std::filesystem;

bool is_single_parquet(const TableReader& reader) {
  std::error_code ec;
  return reader.format() == TableFormat::kParquet && fs::is_regular_file(reader.path(), ec);
}

// What the scalar function writes to, set before each query; DuckDB calls the function from
// its scan threads at once, each with its own rows (so its own slots of the block).
struct ParquetBlocks::State {
  ExtraValue extra_value;
  std::optional<idx_t> text_argument;   // the function's argument holding the text column
  std::optional<idx_t> extra_argument;  // and the extra one
  std::string where;
  Block* block = nullptr;
  size_t dim = 0;
  std::mutex mutex;
  std::optional<Error> failure;  // the first row's error, rethrown as it was made
};

namespace {

void place(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  auto* state = static_cast<ParquetBlocks::State*>(duckdb_scalar_function_get_extra_info(info));
  try {
    ParquetBlocks::Block& block = *state->block;
    const idx_t n = duckdb_data_chunk_get_size(input);
    duckdb_vector numbers = duckdb_data_chunk_get_vector(input, 0);
    const auto* rows = static_cast<const int64_t*>(duckdb_vector_get_data(numbers));
    duckdb_vector vectors = duckdb_data_chunk_get_vector(input, 1);
    const LogicalType vector_type(duckdb_vector_get_column_type(vectors));
    place_float_rows(vectors, vector_type.get(), n, rows, block.first, state->where, state->dim,
                     block.vectors.data());
    if (state->text_argument) {
      duckdb_vector texts = duckdb_data_chunk_get_vector(input, *state->text_argument);
      for (idx_t i = 0; i < n; ++i) {
        const auto slot = static_cast<uint64_t>(rows[i]) - block.first;
        block.texts[slot] = is_valid(texts, i) ? std::string(string_at(texts, i)) : std::string();
      }
    }
    if (state->extra_argument) {
      duckdb_vector extra = duckdb_data_chunk_get_vector(input, *state->extra_argument);
      const LogicalType extra_type(duckdb_vector_get_column_type(extra));
      for (idx_t i = 0; i < n; ++i) {
        block.extras[static_cast<uint64_t>(rows[i]) - block.first] =
            state->extra_value(extra, extra_type.get(), i);
      }
    }
    auto* out = static_cast<int64_t*>(duckdb_vector_get_data(output));
    for (idx_t i = 0; i < n; ++i)
      out[i] = 1;
  } catch (const Error& e) {
    {
      std::lock_guard lock(state->mutex);
      if (!state->failure) state->failure = e;
    }
    duckdb_scalar_function_set_error(info, e.what());
  } catch (const std::exception& e) {
    duckdb_scalar_function_set_error(info, e.what());
  }
}

}  // namespace

ParquetBlocks::ParquetBlocks(Database& db, const TableReader& schema, Columns columns,
                             ExtraValue extra_value, std::string where)
    : path_(schema.path()), con_(db), state_(std::make_unique<State>()) {
  DEFT_ASSERT(is_single_parquet(schema), "one parquet file");
  state_->extra_value = std::move(extra_value);
  state_->where = std::move(where);
  // Arguments: file_row_number, the vectors, then the text and extra columns when asked for.
  std::vector<size_t> arguments = {columns.vector};
  if (columns.text) {
    state_->text_argument = arguments.size() + 1;
    arguments.push_back(*columns.text);
  }
  if (columns.extra) {
    state_->extra_argument = arguments.size() + 1;
    arguments.push_back(*columns.extra);
  }

  duckdb_scalar_function function = duckdb_create_scalar_function();
  // Functions live in the database's catalog, not the connection's: each reader its own name.
  // The entry outlives the reader (the C API cannot drop it), with a pointer to its state that
  // nothing calls again: only this reader's queries name the function.
  static std::atomic<uint64_t> readers{0};
  function_name_ = fmt::format("deft_place_{}", readers++);
  duckdb_scalar_function_set_name(function, function_name_.c_str());
  LogicalType bigint(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
  duckdb_scalar_function_add_parameter(function, bigint.get());
  for (size_t c : arguments) {
    const LogicalType type = schema.column_type_copy(c);
    duckdb_scalar_function_add_parameter(function, type.get());
    columns_sql_ += ", " + sql_identifier(schema.columns()[c].name);
  }
  vector_sql_ = sql_identifier(schema.columns()[columns.vector].name);
  duckdb_scalar_function_set_return_type(function, bigint.get());
  duckdb_scalar_function_set_extra_info(function, state_.get(), nullptr);
  duckdb_scalar_function_set_function(function, place);
  duckdb_scalar_function_set_volatile(function);  // called for every row, never folded
  // Rows with a NULL argument (no label, no path, no embedding) come to the function like any
  // other: it decides, and every row counts.
  duckdb_scalar_function_set_special_handling(function);
  const duckdb_state registered = duckdb_register_scalar_function(con_.get(), function);
  duckdb_destroy_scalar_function(&function);
  if (registered == DuckDBError) {
    throw Error(ErrorKind::kRun, "duckdb: cannot register the block reader's function");
  }
}

ParquetBlocks::~ParquetBlocks() = default;

std::optional<size_t> ParquetBlocks::dimension_at(uint64_t row) {
  Result result =
      con_.query(fmt::format("SELECT len({}) FROM read_parquet({}, file_row_number = true) WHERE "
                             "file_row_number = {}",
                             vector_sql_, sql_string_literal(path_.string()), row),
                 fmt::format("reading '{}'", path_.string()), ErrorKind::kInput);
  DataChunk chunk = result.fetch_chunk();
  if (!chunk || duckdb_data_chunk_get_size(chunk.get()) == 0) return std::nullopt;
  duckdb_vector lengths = duckdb_data_chunk_get_vector(chunk.get(), 0);
  if (!is_valid(lengths, 0)) return std::nullopt;
  return static_cast<size_t>(static_cast<const int64_t*>(duckdb_vector_get_data(lengths))[0]);
}

void ParquetBlocks::read(uint64_t first, size_t rows, size_t dim, Block& block) {
  DEFT_ASSERT(dim > 0, "the dimension is known");
  block.first = first;
  block.rows = rows;
  block.vectors.resize(rows * dim);
  if (state_->text_argument) block.texts.resize(rows);
  if (state_->extra_argument) block.extras.assign(rows, std::nullopt);
  state_->block = &block;
  state_->dim = dim;
  state_->failure.reset();
  const std::string sql = fmt::format(
      "SELECT count({}(file_row_number{})) FROM read_parquet({}, file_row_number = true) "
      "WHERE file_row_number >= {} AND file_row_number < {}",
      function_name_, columns_sql_, sql_string_literal(path_.string()), first, first + rows);
  Result result;
  const duckdb_state state = duckdb_query(con_.get(), sql.c_str(), result.out());
  if (state == DuckDBError) {
    if (state_->failure) throw *state_->failure;
    throw Error(ErrorKind::kInput, fmt::format("cannot read rows {}–{} of '{}': {}", first,
                                               first + rows - 1, path_.string(), result.error()));
  }
  const DataChunk count = result.fetch_chunk();
  const uint64_t placed = count ? static_cast<const uint64_t*>(duckdb_vector_get_data(
                                      duckdb_data_chunk_get_vector(count.get(), 0)))[0]
                                : 0;
  if (placed != rows) {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}' changed while deft was reading it: rows {}–{} hold {} rows",
                            path_.string(), first, first + rows - 1, placed));
  }
}

}  // namespace deft::table
