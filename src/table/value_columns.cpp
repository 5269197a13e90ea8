#include "table/value_columns.h"

#include <algorithm>

#include "common/error.h"

namespace deft::table {
namespace {

LogicalType logical_type_of(ValueColumn::Kind kind) {
  if (kind == ValueColumn::Kind::kRealList) {
    LogicalType element(duckdb_create_logical_type(DUCKDB_TYPE_DOUBLE));
    return LogicalType(duckdb_create_list_type(element.get()));
  }
  duckdb_type type = DUCKDB_TYPE_VARCHAR;
  switch (kind) {
    case ValueColumn::Kind::kText:
    case ValueColumn::Kind::kRealList:
      break;
    case ValueColumn::Kind::kInt:
      type = DUCKDB_TYPE_BIGINT;
      break;
    case ValueColumn::Kind::kReal:
      type = DUCKDB_TYPE_DOUBLE;
      break;
    case ValueColumn::Kind::kBool:
      type = DUCKDB_TYPE_BOOLEAN;
      break;
  }
  return LogicalType(duckdb_create_logical_type(type));
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

// Lists of doubles: the child vector holds every row's values end to end, each row's entry
// its offset and length.
void fill_lists(duckdb_vector vector, const std::vector<std::optional<std::vector<double>>>& values,
                size_t start, size_t n) {
  size_t total = 0;
  for (size_t i = 0; i < n; ++i)
    total += values[start + i] ? values[start + i]->size() : 0;
  duckdb_list_vector_reserve(vector, total);
  duckdb_list_vector_set_size(vector, total);
  auto* data = static_cast<double*>(duckdb_vector_get_data(duckdb_list_vector_get_child(vector)));
  auto* entries = static_cast<duckdb_list_entry*>(duckdb_vector_get_data(vector));
  duckdb_vector_ensure_validity_writable(vector);
  uint64_t* validity = duckdb_vector_get_validity(vector);
  size_t offset = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto& v = values[start + i];
    entries[i] = {offset, v ? v->size() : 0};
    if (!v) {
      duckdb_validity_set_row_invalid(validity, i);
      continue;
    }
    std::copy(v->begin(), v->end(), data + offset);
    offset += v->size();
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
    case Kind::kRealList:
      return lists.size();
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
    declared.push_back({c.name, logical_type_of(c.kind)});
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
        case ValueColumn::Kind::kRealList:
          fill_lists(vector, c.lists, start, n);
          break;
      }
    }
    duckdb_data_chunk_set_size(chunk.get(), n);
    writer.append(std::move(chunk));
  }
  writer.commit();
}

}  // namespace deft::table
