#include "select/exclusions.h"

#include <string>
#include <unordered_set>

#include <fmt/format.h>

#include "common/error.h"
#include "select/path_names.h"
#include "table/table_reader.h"
#include "table/vector_access.h"

namespace deft::select {

std::unordered_set<uint32_t> excluded_files(table::Database& db, const std::filesystem::path& path,
                                            const PoolFiles& files) {
  table::TableReader reader(db, path, {.columns = {table::kFilepathColumn}});
  std::unordered_set<std::string> names;  // the listed paths and their basenames
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    duckdb_vector column = duckdb_data_chunk_get_vector(chunk.get(), 0);
    for (idx_t i = 0; i < n; ++i) {
      if (!table::is_valid(column, i)) continue;
      const std::string p(table::string_at(column, i));
      if (!p.empty()) names.insert(p);
      if (const std::string base = path_name(p); !base.empty()) names.insert(base);
    }
  }
  std::unordered_set<uint32_t> excluded;
  for (uint32_t f = 0; f < files.files(); ++f) {
    const std::string& p = files.path(f);
    if (names.count(p) > 0 || names.count(path_name(p)) > 0) excluded.insert(f);
  }
  return excluded;
}

}  // namespace deft::select
