#include "history/pool_groups.h"

#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "mine/labels.h"
#include "table/path_base.h"
#include "table/table_reader.h"
#include "table/vector_access.h"

namespace deft::history {

namespace fs = std::filesystem;

std::string resolve_group_column(table::Database& db, const fs::path& table,
                                 const std::string& filepath_column, const std::string& requested) {
  const table::TableReader reader(db, table, {.filepath_column = filepath_column});
  if (!requested.empty()) {
    if (!reader.find_column(requested)) {
      std::vector<std::string> names;
      for (const auto& c : reader.columns())
        names.push_back(c.name);
      throw Error(ErrorKind::kInput,
                  fmt::format("group_column '{}' is not a column of the pool '{}' (it has: {})",
                              requested, table.string(), fmt::join(names, ", ")),
                  "name the column that identifies an item across rounds, or leave "
                  "group_column unset (the first of source_group_id, atomic_sample_id, filepath)");
    }
    return requested;
  }
  for (const char* candidate : kGroupColumnCandidates) {
    const std::optional<size_t> column = reader.find_column(candidate);
    if (column && mine::usable_label_kind(reader, *column)) return candidate;
  }
  return filepath_column;
}

namespace {

// Every row's group id (and label), in pool order, to `fn(row, group, label)`.
template <typename Fn>
void scan(table::Database& db, const PoolTableColumns& c, Fn&& fn) {
  const bool by_file = c.group_column == c.filepath_column;
  std::vector<std::string> columns = {c.group_column};
  if (!by_file) columns.push_back(c.filepath_column);
  table::TableReader reader(db, c.table,
                            {.columns = columns,
                             .optional_columns = {table::kLabelColumn},
                             .filepath_column = c.filepath_column});
  if (!mine::usable_label_kind(reader, 0)) {
    throw Error(ErrorKind::kInput,
                fmt::format("group_column '{}' of the pool '{}' holds neither text nor integers",
                            c.group_column, c.table.string()),
                "name a text or integer column that identifies an item across rounds");
  }
  std::optional<size_t> label = reader.label_column();
  if (label && !mine::usable_label_kind(reader, *label)) label.reset();
  uint64_t row = 0;
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    duckdb_vector groups = duckdb_data_chunk_get_vector(chunk.get(), 0);
    duckdb_vector paths = duckdb_data_chunk_get_vector(chunk.get(), reader.filepath_column());
    for (idx_t i = 0; i < n; ++i, ++row) {
      std::optional<std::string> group = mine::label_at(groups, reader.column_type(0), i);
      if (by_file || !group) {
        // The file itself: resolved, so that one file spelled two ways is one item.
        group = table::is_valid(paths, i)
                    ? std::optional(table::resolve_filepath(std::string(table::string_at(paths, i)),
                                                            c.path_base)
                                        .lexically_normal()
                                        .string())
                    : std::nullopt;
      }
      std::optional<std::string> text;
      if (label) {
        text = mine::label_at(duckdb_data_chunk_get_vector(chunk.get(), *label),
                              reader.column_type(*label), i);
      }
      fn(row, group, label.has_value(), text ? *text : std::string(kNoLabel));
    }
  }
}

}  // namespace

PoolGroups scan_pool_groups(table::Database& db, const PoolTableColumns& columns,
                            const std::unordered_set<std::string>& mined_groups) {
  PoolGroups out;
  scan(db, columns,
       [&](uint64_t, const std::optional<std::string>& group, bool has_labels,
           const std::string& label) {
         const bool mined = group && mined_groups.count(*group) > 0;
         out.in_history.push_back(mined);
         ++out.rows;
         out.has_labels = has_labels;
         if (has_labels) ++out.rows_per_label[label];
         if (!mined) return;
         ++out.in_history_rows;
         if (has_labels) ++out.history_rows_per_label[label];
       });
  return out;
}

std::unordered_map<uint64_t, RowGroup> groups_of_rows(table::Database& db,
                                                      const PoolTableColumns& columns,
                                                      const std::unordered_set<uint64_t>& rows) {
  std::unordered_map<uint64_t, RowGroup> out;
  if (rows.empty()) return out;
  scan(db, columns,
       [&](uint64_t row, const std::optional<std::string>& group, bool, const std::string& label) {
         if (rows.count(row) > 0) out[row] = {group.value_or(""), label};
       });
  return out;
}

}  // namespace deft::history
