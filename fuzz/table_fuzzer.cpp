// The table readers on small files, through DuckDB as deft reads them: the same bytes as a
// parquet file and as a CSV file, each read as a mining target table would be (filepath,
// label, and the embedding vectors with their length and NULL checks), and counted.
#include <string>

#include "fuzz_support.h"
#include "mine/targets.h"
#include "table/duckdb_handles.h"
#include "table/embedding_table.h"
#include "table/table_reader.h"

namespace {

void read_as(deft::table::Database& db, const std::string& name, const uint8_t* data, size_t size) {
  const auto path = deft::fuzz::write_input(name, data, size);
  deft::fuzz::expect_refusal_only([&] {
    deft::table::ReadOptions options;
    options.optional_columns = {deft::table::kEmbeddingColumn, deft::table::kLabelColumn};
    deft::table::TableReader reader(db, path, options);
    if (reader.find_column(deft::table::kEmbeddingColumn)) {
      const deft::mine::Targets targets = deft::mine::read_targets(
          reader, deft::table::kEmbeddingColumn, reader.label_column().has_value());
      if (targets.vectors.size() != targets.paths.size() * targets.dim) __builtin_trap();
    } else {
      while (deft::table::DataChunk chunk = reader.next_chunk()) {
      }
    }
  });
  deft::fuzz::expect_refusal_only([&] {
    deft::table::TableReader reader(db, path);
    (void)reader.count_rows();
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool ready = (deft::fuzz::silence_log(), true);
  (void)ready;
  static deft::table::Database db;
  read_as(db, "table.parquet", data, size);
  read_as(db, "table.csv", data, size);
  return 0;
}
