// table::ParquetBlocks against the values written: a parquet of 5,000 rows in row groups of
// 1,000 whose embeddings DuckDB computes from the row number (the same formula evaluated here
// in double, then rounded to float as the FLOAT[] column stores it).
#include "table/parquet_blocks.h"

#include <cmath>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "table/table_reader.h"
#include "table/vector_access.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

float value(uint64_t i, int k) {
  const auto x = static_cast<double>(i);
  return static_cast<float>(k == 0 ? std::sin(x * 0.37) : k == 1 ? std::cos(x * 0.11) : x * 0.5);
}

fs::path write_pool(const testing::ScratchDir& dir) {
  const fs::path path = dir / "pool.parquet";
  table::Database db;
  testing::sql_exec(db,
                    fmt::format("COPY (SELECT 'img/' || i || '.jpg' AS filepath, "
                                "CASE WHEN i % 7 = 0 THEN NULL ELSE 'c' || (i % 3) END AS label, "
                                "CASE WHEN i = 4999 THEN NULL ELSE "
                                "[sin(i * 0.37), cos(i * 0.11), i * 0.5]::FLOAT[] END AS embedding "
                                "FROM range(5000) t(i) ORDER BY i) TO {} "
                                "(FORMAT parquet, ROW_GROUP_SIZE 1000)",
                                testing::quoted(path)));
  return path;
}

std::optional<std::string> text_or_null(duckdb_vector v, duckdb_logical_type, idx_t row) {
  if (!table::is_valid(v, row)) return std::nullopt;
  return std::string(table::string_at(v, row));
}

TEST(ParquetBlocks, PlacesEveryRowWhereItsFileRowSaysAcrossRowGroups) {
  testing::ScratchDir dir;
  const fs::path path = write_pool(dir);
  table::Database db;
  const table::TableReader schema(db, path, {.columns = {"filepath", "embedding", "label"}});
  ASSERT_TRUE(table::is_single_parquet(schema));
  // Two readers on one database (each registers its own function), each used twice.
  table::ParquetBlocks a(db, schema, {.vector = 1, .text = 0, .extra = 2}, text_or_null, "pool");
  table::ParquetBlocks b(db, schema, {.vector = 1}, nullptr, "pool");
  EXPECT_EQ(a.dimension_at(0), 3U);
  EXPECT_EQ(a.dimension_at(4999), std::nullopt);  // NULL
  EXPECT_EQ(a.dimension_at(5000), std::nullopt);  // past the end
  table::ParquetBlocks::Block block;
  for (const auto& [first, rows] :
       {std::pair<uint64_t, size_t>{1234, 2222}, {0, 1}, {3999, 1000}}) {
    SCOPED_TRACE(first);
    a.read(first, rows, 3, block);
    ASSERT_EQ(block.first, first);
    ASSERT_EQ(block.vectors.size(), rows * 3);
    for (size_t r = 0; r < rows; ++r) {
      const uint64_t i = first + r;
      for (int k = 0; k < 3; ++k)
        ASSERT_EQ(block.vectors[r * 3 + k], value(i, k)) << i << " " << k;
      ASSERT_EQ(block.texts[r], fmt::format("img/{}.jpg", i));
      ASSERT_EQ(block.extras[r],
                i % 7 == 0 ? std::nullopt : std::optional<std::string>(fmt::format("c{}", i % 3)));
    }
    table::ParquetBlocks::Block bare;
    b.read(first, rows, 3, bare);
    EXPECT_EQ(bare.vectors, block.vectors);
    EXPECT_TRUE(bare.texts.empty());
    EXPECT_TRUE(bare.extras.empty());
  }
}

TEST(ParquetBlocks, ANullRowAWrongDimensionAndMissingRowsAreErrors) {
  testing::ScratchDir dir;
  const fs::path path = write_pool(dir);
  table::Database db;
  const table::TableReader schema(db, path, {.columns = {"filepath", "embedding"}});
  table::ParquetBlocks blocks(db, schema, {.vector = 1, .text = 0}, nullptr, "'pool' column 'e'");
  table::ParquetBlocks::Block block;
  try {
    blocks.read(4000, 1000, 3, block);
    FAIL() << "a NULL embedding was read";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("'pool' column 'e': row 4999 has no embedding (NULL)"));
  }
  try {
    blocks.read(10, 5, 4, block);
    FAIL() << "a 3-long embedding was read as 4";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("row 10 has an embedding of length 3, expected 4"));
  }
  try {
    blocks.read(4990, 20, 3, block);  // rows 4990–5009: the file ends at 4999 (NULL there too)
    FAIL() << "rows past the end were read";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("row 4999"));
  }
  try {
    blocks.read(4000, 999, 3, block);
    blocks.read(4980, 10, 3, block);
    blocks.read(5000, 10, 3, block);
    FAIL() << "rows past the end were read";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("changed while deft was reading it"));
  }
}

}  // namespace
}  // namespace deft
