#pragma once
// Label columns as mining compares them: integers (any width, signed or not) or text, read as
// text from their DuckDB vector. Two labels are compared as the reference does
// (LabelCompare::kReference, tao-compat.md): str(label).strip().upper(), a NULL being the text
// "NONE", so the integer 3 equals the text "3" and "pass " equals "PASS". kTyped compares the
// values themselves: integers never equal text (refused up front), NULL equals nothing.
//
//   mine::LabelKind kind = mine::label_kind(reader, *reader.label_column());  // throws Error
//   std::optional<std::string> v = mine::label_at(vector, type, row);        // nullopt: NULL
//   const auto key = mine::label_key(v, mine::LabelCompare::kReference);  // "3", "PASS", "NONE"
//   bool same = mine::labels_match(a, b, mine::LabelCompare::kReference);  // "pass " vs "PASS"

#include <optional>
#include <string>

#include <duckdb.h>

#include "table/table_reader.h"

namespace deft::mine {

enum class LabelKind { kInteger, kText };
enum class LabelCompare { kReference, kTyped };

// The key a label is compared by: kReference: the text trimmed of whitespace (Python's ASCII
// set) and upper-cased (ASCII letters), NULL → "NONE"; kTyped: the text as it is, NULL →
// nullopt (matches nothing).
std::optional<std::string> label_key(const std::optional<std::string>& label, LabelCompare compare);
// Whether two labels are equal under `compare`: both have a key, and it is the same.
bool labels_match(const std::optional<std::string>& a, const std::optional<std::string>& b,
                  LabelCompare compare);
// The same key as a DuckDB SQL expression over `column` (for reports that group by label).
std::string label_key_sql(const std::string& column, LabelCompare compare);

// Throws Error(kInput) naming the file when the column is neither integer nor text.
LabelKind label_kind(const table::TableReader& reader, size_t column);
// The same, nullopt instead of an error (for a label column that is only carried along).
std::optional<LabelKind> usable_label_kind(const table::TableReader& reader, size_t column);
const char* label_kind_name(LabelKind kind);

std::optional<std::string> label_at(duckdb_vector vector, duckdb_logical_type type, idx_t row);

}  // namespace deft::mine
