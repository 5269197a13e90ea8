#include "table/value_columns.h"

#include <algorithm>

#include "common/error.h"

namespace deft::table {
namespace {

duckdb_type duckdb_type_of(ValueColumn::Kind kind) {
  switch (kind) {
    case ValueColumn::Kind::kText:
      return DUCKDB_TYPE_VARCHAR;
    case ValueColumn::Kind::kInt:
      return DUCKDB_TYPE_BIGINT;
    case ValueColumn::Kind::kReal:
      return DUCKDB_TYPE_DOUBLE;
    case ValueColumn::Kind::kBool:
      return DUCKDB_TYPE_BOOLEAN;
  }
  return DUCKDB_TYPE_VARCHAR;
}

// Copies values [start, start + n) of `column` into `vector`.
template <typename T>
void fill(duckdb_vector vector, const std::vector<std::optional<T>>& values, size_t start,
          size_t n) {
  duckdb_vector_ensure_validity_writable(vector);
  uint64_t* validity = duckdb_vector_get_validity(vector);
  auto* data = static_cast<T*>(duckdb_vector_get_data(vector));
  for (size_t i = 0; i < n; ++i) {
    const auto& v = values[start + i];
    if (v) {
      data[i] = *v;
    } else {
      duckdb_validity_set_row_invalid(validity, i);
    }
  }
}

void fill_text(duckdb_vector vector, const std::vector<std::optional<std::string>>& values,
               size_t start, size_t n) {
  duckdb_vector_ensure_validity_writable(vector);
  uint64_t* validity = duckdb_vector_get_validity(vector);
  for (size_t i = 0; i < n; ++i) {
    const auto& v = values[start + i];
    if (v) {
      duckdb_vector_assign_string_element_len(vector, i, v->data(), v->size());
    } else {
      duckdb_validity_set_row_invalid(validity, i);
    }
  }
}

}  // namespace

size_t ValueColumn::size() const {
  switch (kind) {
    case Kind::kText:
      return text.size();
    case Kind::kInt:
      return ints.size();
    case Kind::kReal:
      return reals.size();
    case Kind::kBool:
      return flags.size();
  }
  return 0;
}

void write_value_columns(Database& db, const std::filesystem::path& output,
                         const std::vector<ValueColumn>& columns, const WriterOptions& options) {
  DEFT_ASSERT(!columns.empty(), "a table has columns");
  const size_t rows = columns.front().size();
  std::vector<OutputColumn> declared;
  for (const ValueColumn& c : columns) {
    DEFT_ASSERT(c.size() == rows, "every column has a value per row");
    declared.push_back({c.name, LogicalType(duckdb_create_logical_type(duckdb_type_of(c.kind)))});
  }
  ParquetWriter writer(db, output, std::move(declared), options);
  constexpr size_t kChunkRows = 2048;
  for (size_t start = 0; start < rows; start += kChunkRows) {
    const size_t n = std::min(kChunkRows, rows - start);
    std::vector<duckdb_logical_type> types;
    for (const auto& c : writer.columns())
      types.push_back(c.type.get());
    DataChunk chunk(duckdb_create_data_chunk(types.data(), types.size()));
    for (size_t i = 0; i < columns.size(); ++i) {
      duckdb_vector vector = duckdb_data_chunk_get_vector(chunk.get(), i);
      const ValueColumn& c = columns[i];
      switch (c.kind) {
        case ValueColumn::Kind::kText:
          fill_text(vector, c.text, start, n);
          break;
        case ValueColumn::Kind::kInt:
          fill(vector, c.ints, start, n);
          break;
        case ValueColumn::Kind::kReal:
          fill(vector, c.reals, start, n);
          break;
        case ValueColumn::Kind::kBool:
          fill(vector, c.flags, start, n);
          break;
      }
    }
    duckdb_data_chunk_set_size(chunk.get(), n);
    writer.append(std::move(chunk));
  }
  writer.commit();
}

}  // namespace deft::table
