#pragma once
// Small outputs built in memory, column by column (failure sidecars, mined lists, pair audits),
// written atomically as parquet through ParquetWriter.
//
//   table::ValueColumn path = table::ValueColumn::text("filepath");
//   path.text.push_back("a.jpg");
//   table::write_value_columns(db, "out.parquet", {path, ...});

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "table/parquet_writer.h"

namespace deft::table {

struct ValueColumn {
  // VARCHAR, BIGINT, DOUBLE, BOOLEAN, DOUBLE[] (a list per row: pandas' list-of-floats column)
  enum class Kind { kText, kInt, kReal, kBool, kRealList };
  std::string name;
  Kind kind = Kind::kText;
  // The one vector that matches `kind` holds the values; nullopt is NULL.
  std::vector<std::optional<std::string>> text;
  std::vector<std::optional<int64_t>> ints;
  std::vector<std::optional<double>> reals;
  std::vector<std::optional<bool>> flags;
  std::vector<std::optional<std::vector<double>>> lists;

  static ValueColumn of(std::string name, Kind kind) {
    return {std::move(name), kind, {}, {}, {}, {}, {}};
  }
  size_t size() const;
};

// Every column must have the same number of values (DEFT_ASSERT).
void write_value_columns(Database& db, const std::filesystem::path& output,
                         const std::vector<ValueColumn>& columns,
                         const WriterOptions& options = {});

}  // namespace deft::table
