#pragma once
// The pool as the mining history sees it: which column identifies an item across rounds (its
// group id), which rows belong to a group an earlier round mined, and how many rows each label
// has. One scan of the group (and label) column, before any vector is read.
//
//   std::string column = resolve_group_column(db, "pool_emb.parquet", "filepath", "");
//   PoolGroups groups = scan_pool_groups(db, {.table = ..., .group_column = column}, mined);
//   groups.in_history[row]    // true: leave it out of this round's search

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "table/duckdb_handles.h"

namespace deft::history {

// The group columns looked for, in order, when group_column is not given.
inline constexpr const char* kGroupColumnCandidates[] = {"source_group_id", "atomic_sample_id",
                                                         "filepath"};

// `requested` when set (an error naming the table and its columns when it lacks it), else the
// first of kGroupColumnCandidates the table has, else `filepath_column`.
std::string resolve_group_column(table::Database& db, const std::filesystem::path& table,
                                 const std::string& filepath_column, const std::string& requested);

struct PoolTableColumns {
  std::filesystem::path table;
  std::string filepath_column = "filepath";
  std::string group_column = "filepath";
  // Where the table's relative filepaths point (table::path_base_of). Grouped by filepath, an
  // item is its file resolved against it, so `a.jpg`, `./a.jpg` and its absolute path are one
  // item, in every round; a row whose group id is NULL is its resolved file too.
  std::filesystem::path path_base;
};

// A label's name as the history and the coverage count it: the label's text, "(none)" for
// NULL.
inline constexpr const char* kNoLabel = "(none)";

struct PoolGroups {
  std::vector<bool> in_history;  // per pool row: its group was mined in an earlier round
  uint64_t rows = 0;
  uint64_t in_history_rows = 0;
  bool has_labels = false;
  std::map<std::string, uint64_t> rows_per_label;
  std::map<std::string, uint64_t> history_rows_per_label;
};

// One scan of the group column (and `label`, when the table has one). A NULL group id is
// never in the history.
PoolGroups scan_pool_groups(table::Database& db, const PoolTableColumns& columns,
                            const std::unordered_set<std::string>& mined_groups);

// The group id (and label) of each of `rows` (pool rows), in one scan.
struct RowGroup {
  std::string group;  // "" for NULL
  std::string label;  // kNoLabel when NULL or the pool has no labels
};
std::unordered_map<uint64_t, RowGroup> groups_of_rows(table::Database& db,
                                                      const PoolTableColumns& columns,
                                                      const std::unordered_set<uint64_t>& rows);

}  // namespace deft::history
