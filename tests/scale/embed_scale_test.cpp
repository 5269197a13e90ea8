// `deft embed`'s peak memory does not grow with the table's length: the same 64 small JPEGs
// listed 16,384 and 65,536 times, embedded with the weights-free thumbnail encoder on 2
// threads, reach the same peak RSS (before the final concatenation streamed, the second run
// took ~400 MB more). Each run's peak is printed as a [ RESULT ] line.
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "image_writer.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;

// Measured: +21 MiB (allocator caches settling); with the whole table gathered before the
// final write it was +330 MiB (~7 KB per row).
constexpr double kMaxGrowthMib = 64.0;
// The budget for a 100k-row pool is 1 GiB beyond the model's weights (none here).
constexpr double kMaxPeakMib = 1024.0;

TEST(EmbedScale, PeakMemoryDoesNotGrowWithTheTable) {
  testing::ScratchDir dir;
  fs::create_directories(dir / "images");
  for (int i = 0; i < 64; ++i)
    testing::write_image(dir / "images" / fmt::format("img{:02}.jpg", i), 160, 120, 3, i);

  const auto peak_for = [&](int rows) {
    const fs::path table = dir / fmt::format("table_{}.csv", rows);
    {
      std::ofstream out(table);
      out << "filepath,id\n";
      for (int r = 0; r < rows; ++r)
        out << fmt::format("images/img{:02}.jpg,{}\n", r % 64, r);
    }
    const fs::path output = dir / fmt::format("emb_{}.parquet", rows);
    const testing::ProcessResult r = testing::run_deft_binary(
        {"embed", "input_parquet=" + table.string(), "output_parquet=" + output.string(),
         "model=thumbnail", "threads=2", "--quiet"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    table::Database db;
    EXPECT_EQ(
        testing::sql_rows(db, "SELECT count(*), max(id) FROM " + testing::quoted(output)),
        (std::vector<std::vector<std::string>>{{std::to_string(rows), std::to_string(rows - 1)}}));
    std::cout << fmt::format("[ RESULT ] deft embed thumbnail, {} rows: peak RSS {:.1f} MiB\n",
                             rows, r.peak_rss_mib);
    return r.peak_rss_mib;
  };
  const double small = peak_for(16384);
  const double large = peak_for(65536);
  if (testing::kAddressSanitizer) return;  // the runs and their rows are checked; not memory
  EXPECT_LT(large - small, kMaxGrowthMib);
  EXPECT_LT(large, kMaxPeakMib);
}

}  // namespace
}  // namespace deft
