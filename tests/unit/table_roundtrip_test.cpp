// read → add embedding → write, checked against DuckDB SQL run directly on the files.
#include <vector>

#include <gtest/gtest.h>

#include "table/embedding_table.h"
#include "table/table_reader.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using testing::quoted;
using testing::ScratchDir;
using testing::sql_exec;
using testing::sql_rows;

constexpr size_t kDim = 8;
constexpr int kRows = 5000;  // > 2 DuckDB vectors and > 4 row groups of the input

// Embedding of the row whose id column is `id`: easy to recompute in SQL.
float embedding_value(int64_t id, size_t j) {
  return static_cast<float>(id * 10 + j) / 4.0F;
}

// An input parquet written by DuckDB SQL (not by deft) with 15 columns of 13 types.
void write_typed_parquet(table::Database& db, const fs::path& path) {
  sql_exec(db,
           "COPY (SELECT "
           "  'images/' || i || '.jpg' AS filepath, "
           "  CASE WHEN i % 3 = 0 THEN NULL ELSE (i % 4)::INTEGER END AS label, "
           "  i::BIGINT AS id, "
           "  (i % 100)::TINYINT AS tiny, "
           "  (i * 0.5)::DOUBLE AS siamese_score, "
           "  (i * 0.25)::FLOAT AS weight, "
           "  i % 2 = 0 AS flag, "
           "  CASE WHEN i % 5 = 0 THEN NULL ELSE 'weak ''' || i || '''' END AS weakness, "
           "  TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (i) SECOND AS captured_at, "
           "  DATE '2020-02-29' + (i % 400)::INTEGER AS day, "
           "  (i * 3.25)::DECIMAL(12, 2) AS price, "
           "  CASE WHEN i % 7 = 0 THEN NULL ELSE [i, NULL, i + 1] END::INTEGER[] AS boxes, "
           "  {'x': i, 'tag': 't' || (i % 3), 'inner': {'ok': i % 2 = 1}} AS meta, "
           "  [{'k': 'a', 'v': i::DOUBLE}] AS pairs, "
           "  ('\\x' || lpad(to_hex(i % 256), 2, '0'))::BLOB AS raw "
           "FROM range(" +
               std::to_string(kRows) + ") t(i)) TO " + quoted(path) +
               " (FORMAT parquet, ROW_GROUP_SIZE 1000)");
}

// Runs deft's reader and embedding writer; keeps the rows for which keep(id) holds.
template <typename Keep>
void embed_table(table::Database& db, const fs::path& in, const fs::path& out, Keep keep,
                 table::WriterOptions options = {}) {
  table::TableReader reader(db, in);
  const size_t id_column = reader.find_column("id").value();
  table::EmbeddingTableWriter writer(db, reader, out, kDim, std::move(options));
  while (table::DataChunk chunk = reader.next_chunk()) {
    const auto* ids = static_cast<const int64_t*>(
        duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk.get(), id_column)));
    std::vector<idx_t> rows;
    std::vector<float> vectors;
    for (idx_t r = 0; r < duckdb_data_chunk_get_size(chunk.get()); ++r) {
      if (!keep(ids[r])) continue;
      rows.push_back(r);
      for (size_t j = 0; j < kDim; ++j)
        vectors.push_back(embedding_value(ids[r], j));
    }
    writer.append(chunk, rows, vectors);
  }
  writer.commit();
}

// Each row as one text value (a struct of every column, rendered by DuckDB), in file order.
std::vector<std::vector<std::string>> rows_as_text(table::Database& db, const std::string& from) {
  return sql_rows(db, "SELECT t::VARCHAR FROM (" + from + ") t");
}

std::vector<std::vector<std::string>> schema(table::Database& db, const std::string& from) {
  return sql_rows(db, "SELECT column_name, column_type FROM (DESCRIBE " + from + ")");
}

TEST(TableRoundTrip, EveryCarriedColumnIsIdenticalAndEmbeddingIsAppended) {
  ScratchDir dir;
  table::Database db;
  const fs::path in = dir / "targets.parquet";
  const fs::path out = dir / "targets_emb.parquet";
  write_typed_parquet(db, in);

  embed_table(db, in, out, [](int64_t) { return true; },
              {.kv_metadata = {{"deft.encoder", R"({"family":"test","it's":"quoted"})"},
                               {"deft.failures", "0"}}});

  // Schema: the input's 15 columns, same names, order and types, then embedding FLOAT[].
  auto expected_schema = schema(db, "SELECT * FROM read_parquet(" + quoted(in) + ")");
  ASSERT_EQ(expected_schema.size(), 15U);
  expected_schema.push_back({"embedding", "FLOAT[]"});
  EXPECT_EQ(schema(db, "SELECT * FROM read_parquet(" + quoted(out) + ")"), expected_schema);

  // Values: every row, every carried column, in order (NULLs included).
  const auto before = rows_as_text(db, "SELECT * FROM read_parquet(" + quoted(in) + ")");
  const auto after =
      rows_as_text(db, "SELECT * EXCLUDE (embedding) FROM read_parquet(" + quoted(out) + ")");
  ASSERT_EQ(before.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(after, before);

  // Spot values, written literally here rather than derived from either file.
  const auto row7 = sql_rows(db,
                             "SELECT filepath, label, weakness, boxes, meta.tag, raw FROM "
                             "read_parquet(" +
                                 quoted(out) + ") WHERE id = 7");
  ASSERT_EQ(row7.size(), 1U);
  EXPECT_EQ(row7[0],
            (std::vector<std::string>{"images/7.jpg", "3", "weak '7'", "NULL", "t1", "\\x07"}));
  const auto row10 = sql_rows(
      db, "SELECT label, weakness, boxes FROM read_parquet(" + quoted(out) + ") WHERE id = 10");
  EXPECT_EQ(row10[0], (std::vector<std::string>{"2", "NULL", "[10, NULL, 11]"}));

  // Embeddings: every row holds exactly id*10+j / 4 for j = 0..7.
  const auto wrong =
      sql_rows(db, "SELECT count(*) FROM read_parquet(" + quoted(out) +
                       ") WHERE embedding IS DISTINCT FROM "
                       "list_transform(range(8), j -> ((id * 10 + j) / 4.0)::FLOAT)");
  EXPECT_EQ(wrong[0][0], "0");

  // Key-value metadata: read back by deft and by DuckDB directly.
  const auto metadata = table::read_kv_metadata(db, out);
  EXPECT_EQ(metadata.at("deft.encoder"), R"({"family":"test","it's":"quoted"})");
  EXPECT_EQ(metadata.at("deft.failures"), "0");
  const auto direct = sql_rows(db, "SELECT decode(value) FROM parquet_kv_metadata(" + quoted(out) +
                                       ") WHERE decode(key) = 'deft.failures'");
  EXPECT_EQ(direct, (std::vector<std::vector<std::string>>{{"0"}}));

  // No temporary file is left beside the output.
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"targets.parquet", "targets_emb.parquet"}));
}

TEST(TableRoundTrip, RowsLeftOutAreSkippedAndOrderKept) {
  ScratchDir dir;
  table::Database db;
  const fs::path in = dir / "pool.parquet";
  const fs::path out = dir / "pool_emb.parquet";
  write_typed_parquet(db, in);

  auto keep = [](int64_t id) { return id % 7 != 3 && !(id >= 2000 && id < 2100); };
  embed_table(db, in, out, keep);

  const auto before =
      rows_as_text(db, "SELECT * FROM read_parquet(" + quoted(in) +
                           ") WHERE id % 7 <> 3 AND NOT (id >= 2000 AND id < 2100)");
  const auto after =
      rows_as_text(db, "SELECT * EXCLUDE (embedding) FROM read_parquet(" + quoted(out) + ")");
  EXPECT_EQ(after.size(), static_cast<size_t>(kRows - 714 - 86));  // 714 ≡3 mod 7; 86 more
  EXPECT_EQ(after, before);
  const auto wrong =
      sql_rows(db, "SELECT count(*) FROM read_parquet(" + quoted(out) +
                       ") WHERE embedding IS DISTINCT FROM "
                       "list_transform(range(8), j -> ((id * 10 + j) / 4.0)::FLOAT)");
  EXPECT_EQ(wrong[0][0], "0");
}

TEST(TableRoundTrip, ExistingEmbeddingColumnIsReplacedInPlace) {
  ScratchDir dir;
  table::Database db;
  const fs::path in = dir / "old.parquet";
  const fs::path out = dir / "new.parquet";
  sql_exec(db,
           "COPY (SELECT 'a' || i AS filepath, [1.0, 2.0]::DOUBLE[] AS embedding, "
           "i::BIGINT AS id FROM range(3) t(i)) TO " +
               quoted(in) + " (FORMAT parquet)");
  embed_table(db, in, out, [](int64_t) { return true; });
  EXPECT_EQ(schema(db, "SELECT * FROM read_parquet(" + quoted(out) + ")"),
            (std::vector<std::vector<std::string>>{
                {"filepath", "VARCHAR"}, {"embedding", "FLOAT[]"}, {"id", "BIGINT"}}));
  EXPECT_EQ(sql_rows(db, "SELECT embedding[2] FROM read_parquet(" + quoted(out) + ")"),
            (std::vector<std::vector<std::string>>{{"0.25"}, {"2.75"}, {"5.25"}}));
}

TEST(TableRoundTrip, CsvWorksTheSameAsParquet) {
  ScratchDir dir;
  table::Database db;
  // filepath, label and an extra column; labels that look numeric must stay text verbatim.
  testing::write_text_file(dir / "pool.csv",
                           "filepath,label,id\n"
                           "images/a b.jpg,007,0\n"
                           "images/b.png,cat,1\n"
                           "\"images/c,1.jpg\",,2\n"
                           "/abs/d.webp,12,3\n");
  sql_exec(db,
           "COPY (SELECT * FROM (VALUES ('images/a b.jpg', '007', 0::BIGINT), "
           "('images/b.png', 'cat', 1), ('images/c,1.jpg', NULL, 2), "
           "('/abs/d.webp', '12', 3)) v(filepath, label, id)) TO " +
               quoted(dir / "pool.parquet") + " (FORMAT parquet)");

  embed_table(db, dir / "pool.csv", dir / "from_csv.parquet", [](int64_t) { return true; });
  embed_table(db, dir / "pool.parquet", dir / "from_parquet.parquet", [](int64_t) { return true; });

  const auto from_csv =
      rows_as_text(db, "SELECT * FROM read_parquet(" + quoted(dir / "from_csv.parquet") + ")");
  EXPECT_EQ(from_csv, rows_as_text(db, "SELECT * FROM read_parquet(" +
                                           quoted(dir / "from_parquet.parquet") + ")"));
  EXPECT_EQ(sql_rows(db, "SELECT filepath, label FROM read_parquet(" +
                             quoted(dir / "from_csv.parquet") + ")"),
            (std::vector<std::vector<std::string>>{{"images/a b.jpg", "007"},
                                                   {"images/b.png", "cat"},
                                                   {"images/c,1.jpg", "NULL"},
                                                   {"/abs/d.webp", "12"}}));
  EXPECT_EQ(schema(db, "SELECT * FROM read_parquet(" + quoted(dir / "from_csv.parquet") + ")"),
            (std::vector<std::vector<std::string>>{{"filepath", "VARCHAR"},
                                                   {"label", "VARCHAR"},
                                                   {"id", "BIGINT"},
                                                   {"embedding", "FLOAT[]"}}));
}

TEST(TableRoundTrip, FormatIsDetectedFromContentWhenTheExtensionSaysNothing) {
  ScratchDir dir;
  table::Database db;
  sql_exec(db, "COPY (SELECT 'x.jpg' AS filepath) TO " + quoted(dir / "table.dat") +
                   " (FORMAT parquet)");
  testing::write_text_file(dir / "list", "filepath\ny.jpg\n");
  EXPECT_EQ(table::detect_table_format(dir / "table.dat"), table::TableFormat::kParquet);
  EXPECT_EQ(table::detect_table_format(dir / "list"), table::TableFormat::kCsv);
  table::TableReader parquet(db, dir / "table.dat");
  table::TableReader csv(db, dir / "list");
  EXPECT_EQ(parquet.count_rows(), 1U);
  EXPECT_EQ(csv.count_rows(), 1U);
}

TEST(TableRoundTrip, ReadsFloatRowsBack) {
  ScratchDir dir;
  table::Database db;
  const fs::path in = dir / "in.parquet";
  write_typed_parquet(db, in);
  embed_table(db, in, dir / "out.parquet", [](int64_t) { return true; });

  table::TableReader reader(db, dir / "out.parquet", {.columns = {"id", "embedding"}});
  size_t dim = 0;
  std::vector<float> values;
  std::vector<int64_t> ids;
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    const auto* id = static_cast<const int64_t*>(
        duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk.get(), 0)));
    ids.insert(ids.end(), id, id + n);
    table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), 1), reader.column_type(1), n,
                             reader.rows_read() - n, "out.parquet", dim, values);
  }
  ASSERT_EQ(dim, kDim);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kRows));
  ASSERT_EQ(values.size(), kRows * kDim);
  for (size_t r = 0; r < ids.size(); ++r) {
    ASSERT_EQ(ids[r], static_cast<int64_t>(r));
    for (size_t j = 0; j < kDim; ++j)
      ASSERT_EQ(values[r * kDim + j], embedding_value(ids[r], j));
  }
}

}  // namespace
}  // namespace deft
