#pragma once
// exclude_path: a parquet with a `filepath` column listing images that must not be selected
// (an earlier round's picks, a hold-out set). A pool file is excluded when its path or its
// basename equals any listed path or basename, as the reference matches them.
//
//   std::unordered_set<uint32_t> taken = excluded_files(db, "used.parquet", files);

#include <cstdint>
#include <filesystem>
#include <unordered_set>

#include "select/matching.h"
#include "table/duckdb_handles.h"

namespace deft::select {

// The pool files (ids of `files`) that exclude_path rules out. Throws Error(kInput) when the
// file cannot be read as a table or has no text `filepath` column (check_settings has said
// whether it exists).
std::unordered_set<uint32_t> excluded_files(table::Database& db, const std::filesystem::path& path,
                                            const PoolFiles& files);

}  // namespace deft::select
