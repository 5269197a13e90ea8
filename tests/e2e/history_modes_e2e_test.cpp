// The mining history in deft select and under max_pool_fraction, on the demo's embeddings:
// rounds of `deft select` never select a file twice and their summary.json counts what was
// left out as a count made here does; the cap keeps `deft mine`'s nearest ranks and lowers
// `deft select`'s budget; `deft run` in unique_neighbor_matching mode records its rounds.
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "table/duckdb_handles.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Json = nlohmann::json;
using testing::quoted;
using testing::sql_rows;

class HistoryModes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::ScratchDir>();
    const auto d = testing::run_deft_binary({"demo", "--output-dir", (*dir_ / "demo").string()});
    ASSERT_EQ(d.exit_code, 0) << d.err;
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static fs::path targets() { return *dir_ / "demo/run/target_embeddings.parquet"; }
  static fs::path pool() { return *dir_ / "demo/run/source_embeddings.parquet"; }

  static std::unique_ptr<testing::ScratchDir> dir_;
};
std::unique_ptr<testing::ScratchDir> HistoryModes::dir_;

TEST_F(HistoryModes, SelectRoundsNeverSelectAFileTwice) {
  testing::ScratchDir dir;
  table::Database db;
  std::set<std::string> every;
  std::vector<std::string> earlier;
  for (int round = 1; round <= 3; ++round) {
    const fs::path out = dir / fmt::format("s{}", round);
    const auto r = testing::run_deft_binary(
        {"select", "source_path=" + pool().string(), "target_path=" + targets().string(),
         "output_dir=" + out.string(), "desired_unique_count=50",
         "history=" + (dir / "history").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> selected =
        testing::parquet_column(db, out / "final_unique_files.parquet", "filepath");
    EXPECT_EQ(selected.size(), 50U);
    for (const std::string& p : selected)
      EXPECT_TRUE(every.insert(p).second) << p << " selected again in round " << round;
    // Rows of the pool whose path an earlier round selected, counted here.
    size_t excluded = 0;
    for (const std::string& p : testing::parquet_column(db, pool(), "filepath"))
      excluded += std::count(earlier.begin(), earlier.end(), p) > 0 ? 1 : 0;
    const Json summary = Json::parse(testing::read_text_file(out / "summary.json"));
    ASSERT_TRUE(summary.contains("history")) << summary.dump();
    EXPECT_EQ(summary["history"]["round"].get<int>(), round);
    EXPECT_EQ(summary["history"]["excluded_by_history"].get<size_t>(), excluded);
    EXPECT_EQ(summary["history"]["yield_per_round"].back()["yield"].get<size_t>(), 50U);
    earlier.insert(earlier.end(), selected.begin(), selected.end());
  }
  const Json manifest = Json::parse(testing::read_text_file(dir / "history" / "history.json"));
  ASSERT_EQ(manifest["rounds"].size(), 3U);
  EXPECT_EQ(manifest["rounds"][2]["artifacts"][1]["file"].get<std::string>(),
            "round_0003_summary.json");
}

TEST_F(HistoryModes, TheCapKeepsTheNearestRanksAndLowersTheBudget) {
  testing::ScratchDir dir;
  table::Database db;
  // 240 pool rows × 0.3 = 72: round 1 of `deft mine` (109 images uncapped) keeps 72.
  const fs::path out = dir / "m1" / "mined.parquet";
  const auto r = testing::run_deft_binary(
      {"mine", "source_parquet=" + pool().string(), "target_parquet=" + targets().string(),
       "output_parquet=" + out.string(), "history=" + (dir / "history").string(),
       "max_pool_fraction=0.3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto kept_ranks = testing::parquet_column(db, out, "rank");
  ASSERT_EQ(kept_ranks.size(), 72U);
  int worst_kept = 0;
  for (const std::string& k : kept_ranks)
    worst_kept = std::max(worst_kept, std::stoi(k));
  // Each capped file's nearest pair (the earlier target on a tie), and its rank.
  const auto capped = sql_rows(
      db, fmt::format("SELECT filepath, arg_min(rank, (distance, target_row)) FROM read_parquet("
                      "{}) WHERE dropped_by = 'cap' GROUP BY filepath",
                      quoted(fs::path(out.string() + ".pairs.parquet"))));
  EXPECT_EQ(capped.size(), 109U - 72U);
  for (const auto& row : capped)
    EXPECT_GE(std::stoi(row[1]), worst_kept) << row[0];
  const std::string summary = testing::read_text_file(out.parent_path() / "mining_summary.txt");
  EXPECT_THAT(summary, HasSubstr("dropped_by_cap: 37\n"));

  // `deft select` against the same history: 72 already taken, so 0 of a budget of 10 remain.
  const auto s = testing::run_deft_binary(
      {"select", "source_path=" + pool().string(), "target_path=" + targets().string(),
       "output_dir=" + (dir / "s2").string(), "desired_unique_count=10",
       "history=" + (dir / "history").string(), "max_pool_fraction=0.3"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const Json j = Json::parse(testing::read_text_file(dir / "s2" / "summary.json"));
  EXPECT_EQ(j["retrieved_unique_count"].get<size_t>(), 0U);
  EXPECT_EQ(j["history"]["desired_after_cap"].get<size_t>(), 0U);
  EXPECT_THAT(j["warnings"].dump(), HasSubstr("so the budget is 0 instead of 10"));
}

// exclude_history=false searches the rows earlier rounds mined: round 2 mines round 1's list
// again, and says how many of its candidates (all of them) were mined before.
TEST_F(HistoryModes, ExcludeHistoryFalseOnlyCountsWhatWasMinedBefore) {
  testing::ScratchDir dir;
  table::Database db;
  std::vector<std::vector<std::string>> lists;
  for (int round = 1; round <= 2; ++round) {
    const fs::path out = dir / fmt::format("m{}", round) / "mined.parquet";
    const auto r = testing::run_deft_binary(
        {"mine", "source_parquet=" + pool().string(), "target_parquet=" + targets().string(),
         "output_parquet=" + out.string(), "history=" + (dir / "history").string(),
         "exclude_history=false"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    lists.push_back(testing::parquet_column(db, out, "filepath"));
  }
  EXPECT_EQ(lists[0], lists[1]);
  const std::string summary = testing::read_text_file(dir / "m2" / "mining_summary.txt");
  EXPECT_THAT(summary, HasSubstr(fmt::format(
                           "excluded_by_history: 0 (exclude_history=false; {} pool rows were "
                           "mined before)\n",
                           lists[0].size())));
  EXPECT_THAT(summary, HasSubstr("candidates_already_mined: 120 of 120 (100.0%)\n"));
}

TEST_F(HistoryModes, RunInUniqueMatchingModeRecordsItsRounds) {
  testing::ScratchDir dir;
  const fs::path demo = *dir_ / "demo";
  for (int round = 1; round <= 2; ++round) {
    const auto r = testing::run_deft_binary(
        {"run", "-e", (demo / "embedding_spec.yaml").string(),
         "target_parquet=" + (demo / "data/targets.parquet").string(),
         "source_parquet=" + (demo / "data/pool.csv").string(),
         "output_dir=" + (dir / "out").string(), "mode=unique_neighbor_matching",
         "mining.desired_unique_count=40", "history=" + (dir / "history").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const Json manifest = Json::parse(testing::read_text_file(dir / "history" / "history.json"));
  ASSERT_EQ(manifest["rounds"].size(), 2U);
  EXPECT_EQ(manifest["rounds"][1]["command"].get<std::string>(), "run");
  EXPECT_EQ(manifest["rounds"][1]["counts"]["excluded_by_history"].get<size_t>(), 40U);
  const auto runs = testing::directory_entries(dir / "out" / "mining_results");
  ASSERT_EQ(runs.size(), 2U);
  const fs::path last = dir / "out" / "mining_results" / runs[1];
  EXPECT_THAT(testing::read_text_file(last / "Mining_Report.md"),
              HasSubstr("This is round 2 of the mining history"));
  EXPECT_THAT(testing::read_text_file(last / "report.html"), HasSubstr("<h2>Rounds</h2>"));
}

}  // namespace
}  // namespace deft
