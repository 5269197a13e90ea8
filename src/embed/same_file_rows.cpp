#include "embed/same_file_rows.h"

#include <string>
#include <string_view>

#include <xxhash.h>

#include "embed/image_file.h"
#include "table/path_base.h"
#include "table/table_reader.h"
#include "table/vector_access.h"

namespace deft::embed {

namespace {

// 128-bit digests of the resolved paths stand for the paths (a collision among 10^9 files has
// a chance of about 10^-21).
struct Key {
  uint64_t low, high;
  bool operator==(const Key&) const = default;
};
struct KeyHash {
  size_t operator()(const Key& k) const { return static_cast<size_t>(k.low ^ (k.high * 31)); }
};

}  // namespace

SameFileRows SameFileRows::find(table::Database& db, const std::filesystem::path& input,
                                const std::filesystem::path& base) {
  SameFileRows same;
  std::unordered_map<Key, uint64_t, KeyHash> first_row_of_file;
  table::TableReader reader(db, input, {.columns = {table::kFilepathColumn}});
  uint64_t row = 0;
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    duckdb_vector paths = duckdb_data_chunk_get_vector(chunk.get(), 0);
    for (idx_t i = 0; i < n; ++i, ++row) {
      if (!table::is_valid(paths, i)) continue;
      const std::string_view filepath = table::string_at(paths, i);
      if (filepath.empty() || !unsupported_location(filepath).empty()) continue;
      const std::string file = table::resolve_filepath(filepath, base).string();
      const XXH128_hash_t h = XXH3_128bits(file.data(), file.size());
      const auto [it, first] = first_row_of_file.try_emplace(Key{h.low64, h.high64}, row);
      if (first) continue;
      same.first_row_of_.emplace(row, it->second);
      ++same.repeats_[it->second];
    }
  }
  return same;
}

std::optional<uint64_t> SameFileRows::first_row_of(uint64_t row) const {
  const auto it = first_row_of_.find(row);
  if (it == first_row_of_.end()) return std::nullopt;
  return it->second;
}

uint64_t SameFileRows::times_named_again(uint64_t row) const {
  const auto it = repeats_.find(row);
  return it == repeats_.end() ? 0 : it->second;
}

}  // namespace deft::embed
