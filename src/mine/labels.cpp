#include "mine/labels.h"

#include <fmt/format.h>

#include "common/error.h"
#include "table/vector_access.h"

namespace deft::mine {
namespace {

bool is_integer(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
      return true;
    default:
      return false;
  }
}

template <typename T>
std::string integer_text(duckdb_vector vector, idx_t row) {
  return std::to_string(static_cast<const T*>(duckdb_vector_get_data(vector))[row]);
}

}  // namespace

std::optional<LabelKind> usable_label_kind(const table::TableReader& reader, size_t column) {
  const duckdb_type t = duckdb_get_type_id(reader.column_type(column));
  if (is_integer(t)) return LabelKind::kInteger;
  if (t == DUCKDB_TYPE_VARCHAR) return LabelKind::kText;
  return std::nullopt;
}

LabelKind label_kind(const table::TableReader& reader, size_t column) {
  if (auto kind = usable_label_kind(reader, column)) return *kind;
  throw Error(ErrorKind::kInput,
              fmt::format("column 'label' in '{}' is {}: labels must be integers or text",
                          reader.path().string(), reader.columns()[column].sql_type));
}

const char* label_kind_name(LabelKind kind) {
  return kind == LabelKind::kInteger ? "integer" : "text";
}

std::optional<std::string> label_at(duckdb_vector vector, duckdb_logical_type type, idx_t row) {
  if (!table::is_valid(vector, row)) return std::nullopt;
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_TINYINT:
      return integer_text<int8_t>(vector, row);
    case DUCKDB_TYPE_SMALLINT:
      return integer_text<int16_t>(vector, row);
    case DUCKDB_TYPE_INTEGER:
      return integer_text<int32_t>(vector, row);
    case DUCKDB_TYPE_BIGINT:
      return integer_text<int64_t>(vector, row);
    case DUCKDB_TYPE_UTINYINT:
      return integer_text<uint8_t>(vector, row);
    case DUCKDB_TYPE_USMALLINT:
      return integer_text<uint16_t>(vector, row);
    case DUCKDB_TYPE_UINTEGER:
      return integer_text<uint32_t>(vector, row);
    case DUCKDB_TYPE_UBIGINT:
      return integer_text<uint64_t>(vector, row);
    default:
      return std::string(table::string_at(vector, row));
  }
}

namespace {

// The ASCII characters Python's str.strip() removes.
constexpr std::string_view kWhitespace = " \t\n\r\v\f\x1c\x1d\x1e\x1f";

}  // namespace

std::optional<std::string> label_key(const std::optional<std::string>& label,
                                     LabelCompare compare) {
  if (compare == LabelCompare::kTyped) return label;
  if (!label) return std::string("NONE");
  const size_t first = label->find_first_not_of(kWhitespace);
  if (first == std::string::npos) return std::string();
  std::string key = label->substr(first, label->find_last_not_of(kWhitespace) - first + 1);
  for (char& c : key) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return key;
}

bool labels_match(const std::optional<std::string>& a, const std::optional<std::string>& b,
                  LabelCompare compare) {
  const auto key = label_key(a, compare);
  return key.has_value() && key == label_key(b, compare);
}

std::string label_key_sql(const std::string& column, LabelCompare compare) {
  if (compare == LabelCompare::kTyped) return column + "::VARCHAR";
  return fmt::format(
      "upper(trim(coalesce({}::VARCHAR, 'NONE'), chr(32) || chr(9) || chr(10) || chr(13) || "
      "chr(11) || chr(12) || chr(28) || chr(29) || chr(30) || chr(31)))",
      column);
}

}  // namespace deft::mine
