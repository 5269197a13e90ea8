#pragma once
// Label columns as mining compares them: integers (any width, signed or not) or text, never a
// mix of the two (an integer 3 and the text "3" are different labels, and a filter comparing
// them would silently drop everything). Values are kept as text, read from their DuckDB vector.
//
//   mine::LabelKind kind = mine::label_kind(reader, *reader.label_column());  // throws Error
//   std::optional<std::string> v = mine::label_at(vector, type, row);        // nullopt: NULL

#include <optional>
#include <string>

#include <duckdb.h>

#include "table/table_reader.h"

namespace deft::mine {

enum class LabelKind { kInteger, kText };

// Throws Error(kInput) naming the file when the column is neither integer nor text.
LabelKind label_kind(const table::TableReader& reader, size_t column);
// The same, nullopt instead of an error (for a label column that is only carried along).
std::optional<LabelKind> usable_label_kind(const table::TableReader& reader, size_t column);
const char* label_kind_name(LabelKind kind);

std::optional<std::string> label_at(duckdb_vector vector, duckdb_logical_type type, idx_t row);

}  // namespace deft::mine
