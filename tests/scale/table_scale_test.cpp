// A 1,000,000-row table with 768-float embeddings is written and read back in bounded memory.
// Its own executable, so that the peak RSS measured is this test's alone.
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "table/embedding_table.h"
#include "table/table_reader.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kRows = 1'000'000;
constexpr size_t kDim = 768;
constexpr double kColumnBytes = static_cast<double>(kRows) * kDim * sizeof(float);  // 3.07 GB
// "Well under the size of the whole column": at most a quarter of it.
constexpr double kMaxPeakFraction = 0.25;

// Few distinct values, so the file stays small on disk; memory use is the same as for any
// float values (row groups are buffered uncompressed).
float value(int64_t id, size_t j) {
  return static_cast<float>((id * 7 + static_cast<int64_t>(j)) % 251);
}

double peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;  // ru_maxrss is in KiB on Linux
}

TEST(TableScale, MillionRowsOf768FloatsStreamInBoundedMemory) {
  testing::ScratchDir dir;
  table::Database db;
  const fs::path in = dir / "pool.parquet";
  const fs::path out = dir / "pool_emb.parquet";
  testing::sql_exec(db,
                    "COPY (SELECT 'pool/img_' || i || '.jpg' AS filepath, (i % 10)::INTEGER "
                    "AS label, i AS id FROM range(" +
                        std::to_string(kRows) + ") t(i)) TO " + testing::quoted(in) +
                        " (FORMAT parquet)");

  {
    table::TableReader reader(db, in);
    table::EmbeddingTableWriter writer(db, reader, out, kDim);
    std::vector<idx_t> rows;
    std::vector<float> vectors;
    while (table::DataChunk chunk = reader.next_chunk()) {
      const idx_t n = duckdb_data_chunk_get_size(chunk.get());
      const auto* ids = static_cast<const int64_t*>(
          duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk.get(), 2)));
      rows.resize(n);
      vectors.resize(n * kDim);
      for (idx_t r = 0; r < n; ++r) {
        rows[r] = r;
        for (size_t j = 0; j < kDim; ++j)
          vectors[r * kDim + j] = value(ids[r], j);
      }
      writer.append(chunk, rows, vectors);
    }
    writer.commit();
    ASSERT_EQ(writer.rows_written(), static_cast<uint64_t>(kRows));
  }
  const double peak_after_write = peak_rss_bytes();

  table::TableReader reader(db, out, {.columns = {"id", "embedding"}});
  int64_t expected_id = 0;
  size_t dim = 0;
  std::vector<float> values;
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    const auto* ids = static_cast<const int64_t*>(
        duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk.get(), 0)));
    values.clear();
    table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), 1), reader.column_type(1), n,
                             reader.rows_read() - n, out.string(), dim, values);
    for (idx_t r = 0; r < n; ++r, ++expected_id) {
      ASSERT_EQ(ids[r], expected_id);
      for (size_t j = 0; j < kDim; j += 97)
        ASSERT_EQ(values[r * kDim + j], value(ids[r], j));
    }
  }
  EXPECT_EQ(expected_id, kRows);
  const double peak = peak_rss_bytes();

  std::printf(
      "[ RESULT   ] rows %lld, dim %zu, column %.0f MB, file %.0f MB, peak RSS after "
      "write %.0f MB, after read %.0f MB (%.1f%% of the column)\n",
      static_cast<long long>(kRows), kDim, kColumnBytes / 1e6,
      static_cast<double>(fs::file_size(out)) / 1e6, peak_after_write / 1e6, peak / 1e6,
      100.0 * peak / kColumnBytes);
  if (testing::kAddressSanitizer) return;  // every value is checked above; not memory
  EXPECT_LT(peak, kMaxPeakFraction * kColumnBytes);
}

}  // namespace
}  // namespace deft
