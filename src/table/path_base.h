#pragma once
// Where a table's relative `filepath` values point. deft records the folder they are relative
// to in every table it writes (deft.path_base in the parquet's key-value metadata), so that an
// embedding parquet or a mined list read from another folder still names the same files.
//
//   const fs::path base = table::path_base_of(db, reader);        // recorded, or the table's
//                                                                  // own folder
//   const fs::path file = table::resolve_filepath(row_path, base);  // what a row names

#include <filesystem>
#include <string_view>

namespace deft::table {

class Database;
class TableReader;

inline constexpr const char* kPathBaseKey = "deft.path_base";

// The folder `reader`'s relative filepath values are relative to: its deft.path_base when it
// records one, else the table's own folder (a table folder: itself). Absolute and lexically
// normal.
std::filesystem::path path_base_of(Database& db, const TableReader& reader);

// The file a filepath value names: absolute ones as they are, relative ones joined to `base`;
// lexically normal either way, so that `./a.jpg`, `x/../a.jpg` and `a.jpg` are one file.
std::filesystem::path resolve_filepath(std::string_view filepath,
                                       const std::filesystem::path& base);

}  // namespace deft::table
