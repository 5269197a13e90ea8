// table::ParquetShare against the values written: a folder of parquet files (1,700, 1,600, 0
// and 1,700 rows, row groups of 500) read as one table of 5,000 rows, whose embeddings
// DuckDB computes from the table row (the same formula evaluated here in double, then rounded
// to float as the FLOAT[] column stores it). Shares that start and end inside files, blocks of
// 1, 7 and all rows.
#include "table/parquet_share.h"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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

// Table rows [offset, offset + rows) as one file; row `null_row` (table row) has a NULL
// embedding.
void write_part(const fs::path& path, uint64_t offset, uint64_t rows, int64_t null_row = -1) {
  table::Database db;
  testing::sql_exec(db,
                    fmt::format("COPY (SELECT 'img/' || i || '.jpg' AS filepath, "
                                "CASE WHEN i = {} THEN NULL ELSE "
                                "[sin(i * 0.37), cos(i * 0.11), i * 0.5]::FLOAT[] END AS embedding "
                                "FROM range({}, {}) t(i) ORDER BY i) TO {} "
                                "(FORMAT parquet, ROW_GROUP_SIZE 500)",
                                null_row, offset, offset + rows, testing::quoted(path)));
}

fs::path write_folder(const testing::ScratchDir& dir, int64_t null_row = -1) {
  const fs::path folder = dir / "pool";
  fs::create_directories(folder);
  write_part(folder / "part-0.parquet", 0, 1700, null_row);
  write_part(folder / "part-1.parquet", 1700, 1600, null_row);
  write_part(folder / "part-1a.parquet", 3300, 0, null_row);  // an empty file: no rows, skipped
  write_part(folder / "part-2.parquet", 3300, 1700, null_row);
  return folder;
}

table::ParquetShare share_of(table::Database& db, const fs::path& table, uint64_t begin,
                             uint64_t end) {
  return {db,
          table,
          {.columns = {"filepath", "embedding"}},
          [](const table::TableReader& schema) {
            return table::ParquetBlocks::Columns{.vector = 1, .text = schema.filepath_column()};
          },
          nullptr,
          "embedding",
          begin,
          end};
}

TEST(ParquetShare, ReadsEveryRowOfTheShareOnceInOrderAcrossFilesInAnyBlockSize) {
  testing::ScratchDir dir;
  const fs::path folder = write_folder(dir);
  table::Database db;
  struct Case {
    uint64_t begin, end;
    size_t block_rows;
  };
  for (const Case c : {Case{1690, 1712, 1}, Case{1000, 4500, 7}, Case{1000, 4500, 10'000},
                       Case{0, 5000, 10'000}, Case{3300, 5000, 600}, Case{4999, 5000, 3}}) {
    SCOPED_TRACE(fmt::format("rows {}-{}, blocks of {}", c.begin, c.end, c.block_rows));
    table::ParquetShare share = share_of(db, folder, c.begin, c.end);
    ASSERT_FALSE(share.empty());
    ASSERT_EQ(share.dimension(), 3U);
    uint64_t next = c.begin;
    size_t blocks = 0;
    std::atomic<size_t> prepared_elsewhere = 0;
    const std::thread::id caller = std::this_thread::get_id();
    share.read(
        3, c.block_rows, /*yield=*/false,
        [&](table::ParquetShare::Block&) {
          prepared_elsewhere += std::this_thread::get_id() != caller ? 1 : 0;
        },
        [&](table::ParquetShare::Block& b) {
          ++blocks;
          ASSERT_EQ(b.first, next);
          ASSERT_GE(b.rows, 1U);
          ASSERT_LE(b.rows, c.block_rows);
          // Blocks never span files: a block that starts in a file ends in it.
          const uint64_t file_end = b.first < 1700 ? 1700 : b.first < 3300 ? 3300 : 5000;
          ASSERT_LE(b.first + b.rows, file_end);
          ASSERT_EQ(b.vectors.size(), b.rows * 3);
          ASSERT_EQ(b.texts.size(), b.rows);
          for (size_t r = 0; r < b.rows; ++r) {
            const uint64_t i = b.first + r;
            for (int k = 0; k < 3; ++k)
              ASSERT_EQ(b.vectors[r * 3 + k], value(i, k)) << i << " " << k;
            ASSERT_EQ(b.texts[r], fmt::format("img/{}.jpg", i));
          }
          next += b.rows;
        });
    EXPECT_EQ(next, c.end);
    EXPECT_EQ(prepared_elsewhere, blocks);
  }
  // A single file is a table of one part.
  table::ParquetShare single = share_of(db, folder / "part-1.parquet", 100, 1200);
  ASSERT_EQ(single.dimension(), 3U);
  uint64_t next = 100;
  single.read(3, 400, false, nullptr, [&](table::ParquetShare::Block& b) {
    ASSERT_EQ(b.first, next);
    EXPECT_EQ(b.texts.front(), fmt::format("img/{}.jpg", 1700 + b.first));
    next += b.rows;
  });
  EXPECT_EQ(next, 1200U);
  // Read a second time: the same rows again (the first reader was used up by the first read).
  next = 100;
  single.read(3, 700, false, nullptr, [&](table::ParquetShare::Block& b) {
    ASSERT_EQ(b.first, next);
    EXPECT_EQ(b.vectors[0], value(1700 + b.first, 0));
    next += b.rows;
  });
  EXPECT_EQ(next, 1200U);
  EXPECT_TRUE(share_of(db, folder, 2000, 2000).empty());
  EXPECT_EQ(share_of(db, folder, 2000, 2000).dimension(), std::nullopt);
}

// A NULL embedding: dimension() says so when it is the share's first row (the caller's
// streamed path then names it); deeper, the read names the file it is in and its file row.
// An exception thrown by the caller's callback stops the reading thread (no hang).
TEST(ParquetShare, ANullEmbeddingIsNamedByItsFileAndFileRowAndACallerErrorStopsTheRead) {
  testing::ScratchDir dir;
  const fs::path folder = write_folder(dir, /*null_row=*/2000);
  table::Database db;
  EXPECT_EQ(share_of(db, folder, 2000, 2500).dimension(), std::nullopt);
  table::ParquetShare share = share_of(db, folder, 1500, 2500);
  ASSERT_EQ(share.dimension(), 3U);
  try {
    share.read(3, 128, false, nullptr, [](table::ParquetShare::Block&) {});
    FAIL() << "a NULL embedding was read";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr((folder / "part-1.parquet").string() +
                                    "' column 'embedding': row 300 has no embedding (NULL)"));
  }
  table::ParquetShare again = share_of(db, folder, 0, 1500);
  size_t used = 0;
  EXPECT_THROW(again.read(3, 10, true, nullptr,
                          [&](table::ParquetShare::Block&) {
                            if (++used == 3) throw std::runtime_error("the search failed");
                          }),
               std::runtime_error);
  EXPECT_EQ(used, 3U);
  // An error made on the reading thread (deft select's normalising refuses a row there)
  // reaches the caller after the blocks before it, and none after.
  table::ParquetShare checked = share_of(db, folder, 0, 1500);
  std::vector<uint64_t> firsts;
  try {
    checked.read(
        3, 100, true,
        [](table::ParquetShare::Block& b) {
          if (b.first == 500) throw Error(ErrorKind::kInput, "row 500 is refused");
        },
        [&](table::ParquetShare::Block& b) { firsts.push_back(b.first); });
    FAIL() << "the reading thread's error was lost";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("row 500 is refused"));
  }
  EXPECT_EQ(firsts, (std::vector<uint64_t>{0, 100, 200, 300, 400}));
  // A share past the table's end (the table shrank after its rows were counted) is refused.
  try {
    share_of(db, folder, 4000, 5001);
    FAIL() << "a share past the end was accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("changed while deft was reading it: it now has 5000 rows"));
  }
}

}  // namespace
}  // namespace deft
