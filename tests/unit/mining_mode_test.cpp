// The mining-mode plug point is real: a mode registered here, in a test, runs through
// run_mine_job with every check, filter, dedup and output of a built-in one. The mode
// ("first-rows") answers every target with the first topn pool rows streamed, at distance
// row × 0.1: an answer no built-in mode gives, so the outputs can only come from it.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "mine/mine_job.h"
#include "mine/pool_searches.h"
#include "table/duckdb_handles.h"
#include "test_support.h"

namespace deft::mine {
namespace {

using ::testing::HasSubstr;
using testing::quoted;
using Rows = std::vector<std::vector<std::string>>;

class FirstRows final : public index::PoolSearch {
 public:
  FirstRows(size_t targets, size_t topn) : targets_(targets), topn_(topn) {}
  void add_block(float*, size_t rows, uint64_t first_row,
                 const std::vector<std::optional<std::string>>&) override {
    for (size_t r = 0; r < rows && first_.size() < topn_; ++r)
      first_.push_back({0.1 * static_cast<double>(first_row + r), first_row + r});
  }
  std::vector<std::vector<index::Neighbor>> finish() override {
    return std::vector<std::vector<index::Neighbor>>(targets_, first_);
  }
  std::string describe() const override { return "first-rows (test mode)"; }

 private:
  size_t targets_;
  size_t topn_;
  std::vector<index::Neighbor> first_;
};

TEST(MiningMode, ARegisteredModeRunsThroughTheWholeMiningJob) {
  register_pool_search("first-rows", [](const PoolSearchContext& c) {
    return std::make_unique<FirstRows>(c.targets.paths.size(), c.job.topn);
  });
  testing::ScratchDir dir;
  table::Database db;
  // Vectors chosen so that exact search would answer differently: each target is nearest to
  // the pool's last rows.
  testing::sql_exec(db,
                    "COPY (SELECT 't' || i || '.jpg' AS filepath, [1.0, i::DOUBLE] AS "
                    "embedding FROM range(2) r(i)) TO " +
                        quoted(dir / "targets.parquet") + " (FORMAT parquet)");
  testing::sql_exec(db,
                    "COPY (SELECT 'p' || i || '.jpg' AS filepath, [i::DOUBLE, 1.0] AS "
                    "embedding FROM range(1, 8) r(i)) TO " +
                        quoted(dir / "pool.parquet") + " (FORMAT parquet)");
  MineJob job{.source = dir / "pool.parquet",
              .target = dir / "targets.parquet",
              .output = dir / "mined.parquet",
              .topn = 3,
              .distance_threshold = 0.15,
              .index = "first-rows"};
  const MineReport r = run_mine_job(job);
  EXPECT_EQ(r.index, "first-rows (test mode)");
  EXPECT_EQ(r.neighbours, 6U);            // 3 per target
  EXPECT_EQ(r.dropped_by_threshold, 2U);  // row 2 (0.2) of each target
  EXPECT_EQ(r.unique_mined, 2U);
  EXPECT_EQ(r.duplicates_removed, 2U);
  EXPECT_EQ(testing::sql_rows(db,
                              "SELECT filepath, target_filepath, distance, rank, target_hits "
                              "FROM " +
                                  quoted(dir / "mined.parquet")),
            (Rows{{"p1.jpg", "t0.jpg", "0.0", "1", "2"}, {"p2.jpg", "t0.jpg", "0.1", "2", "2"}}));
  EXPECT_THAT(testing::read_text_file(dir / "mining_summary.txt"),
              HasSubstr("index: first-rows (test mode)\n"));

  // A mode that cannot split the pool is refused under several ranks, before any row is read.
  Targets none;
  try {
    make_pool_search({job, none, false, 2});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_THAT(e.what(), HasSubstr("index=first-rows cannot split the pool across 2 MPI ranks"));
  }
}

}  // namespace
}  // namespace deft::mine
