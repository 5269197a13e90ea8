#include "mine/targets.h"

#include <fmt/format.h>

#include "mine/labels.h"
#include "table/embedding_table.h"
#include "table/table_reader.h"
#include "table/vector_access.h"

namespace deft::mine {

Targets read_targets(table::TableReader& reader, const std::string& column, bool labels) {
  Targets t;
  const size_t vectors = *reader.find_column(column);
  const auto label = reader.label_column();
  const std::string where = fmt::format("'{}' column '{}'", reader.path().string(), column);
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    const uint64_t first = reader.rows_read() - n;
    table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), vectors),
                             reader.column_type(vectors), n, first, where, t.dim, t.vectors);
    duckdb_vector paths = duckdb_data_chunk_get_vector(chunk.get(), reader.filepath_column());
    for (idx_t i = 0; i < n; ++i) {
      t.paths.emplace_back(table::is_valid(paths, i) ? table::string_at(paths, i) : "");
      t.labels.push_back(labels ? label_at(duckdb_data_chunk_get_vector(chunk.get(), *label),
                                           reader.column_type(*label), i)
                                : std::nullopt);
    }
  }
  return t;
}

}  // namespace deft::mine
