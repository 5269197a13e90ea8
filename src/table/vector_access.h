#pragma once
// Typed access to the flat vectors of a DuckDB data chunk (chunks fetched from results are
// always flat). Layout per DuckDB: validity bitmask (null = all valid), then the values.

#include <string_view>

#include <duckdb.h>

namespace deft::table {

inline bool is_valid(duckdb_vector vector, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vector);
  return validity == nullptr || duckdb_validity_row_is_valid(validity, row);
}

// VARCHAR or BLOB value at `row`; valid while the chunk lives. Caller checks is_valid first.
inline std::string_view string_at(duckdb_vector vector, idx_t row) {
  auto* strings = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector));
  return {duckdb_string_t_data(&strings[row]), duckdb_string_t_length(strings[row])};
}

}  // namespace deft::table
