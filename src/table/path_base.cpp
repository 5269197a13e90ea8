#include "table/path_base.h"

#include "table/parquet_writer.h"
#include "table/table_reader.h"

namespace deft::table {

namespace fs = std::filesystem;

fs::path path_base_of(Database& db, const TableReader& reader) {
  if (reader.format() == TableFormat::kParquet) {
    const auto metadata = read_kv_metadata(db, reader.path());
    const auto recorded = metadata.find(kPathBaseKey);
    if (recorded != metadata.end() && !recorded->second.empty()) {
      return fs::absolute(recorded->second).lexically_normal();
    }
  }
  std::error_code ec;
  const fs::path table = fs::absolute(reader.path());
  return (fs::is_directory(table, ec) ? table : table.parent_path()).lexically_normal();
}

fs::path resolve_filepath(std::string_view filepath, const fs::path& base) {
  const fs::path path(filepath);
  return (path.is_absolute() ? path : base / path).lexically_normal();
}

}  // namespace deft::table
