// The mining history (issue 20) end to end: three rounds of `deft run` on the demo's data (no
// file mined twice, rounds 1..3, the manifest's sha256 equal to `sha256sum`, "excluded by
// history" equal to a count made here), a tampered round file stopping the next round and
// history_repair rebuilding the manifest, a pool that empties near its target (the yield-drop
// warning and a forecast recomputed here), and coverage reported before any image is decoded.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "table/duckdb_handles.h"
#include "table/parquet_writer.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::quoted;
using testing::sql_rows;
using testing::summary_value;

testing::ProcessResult deft(std::vector<std::string> args) {
  return testing::run_deft_binary(std::move(args));
}

// `deft run` of the demo's specs and tables, with `extra` keys.
testing::ProcessResult demo_round(const fs::path& demo, const fs::path& out,
                                  std::vector<std::string> extra) {
  std::vector<std::string> args = {"run",
                                   "-e",
                                   (demo / "embedding_spec.yaml").string(),
                                   "-m",
                                   (demo / "mining_spec.yaml").string(),
                                   "target_parquet=" + (demo / "data" / "targets.parquet").string(),
                                   "source_parquet=" + (demo / "data" / "pool.csv").string(),
                                   "output_dir=" + out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return deft(args);
}

std::string sha256sum(const fs::path& file) {
  const testing::ProcessResult r = testing::run_process({"/usr/bin/sha256sum", file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.substr(0, 64);
}

// Three rounds on the demo's data, made once for the suite (each round is a full `deft run`).
class HistoryRounds : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::ScratchDir>();
    const fs::path demo = *dir_ / "demo";
    const testing::ProcessResult d = deft({"demo", "--output-dir", demo.string()});
    ASSERT_EQ(d.exit_code, 0) << d.err;
    for (int round = 1; round <= 3; ++round) {
      const testing::ProcessResult r =
          demo_round(demo, *dir_ / "out", {"history=" + (*dir_ / "history").string()});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      logs_.push_back(r.err);
    }
    const fs::path results = *dir_ / "out" / "mining_results";
    for (const std::string& name : testing::directory_entries(results))
      runs_.push_back(results / name);
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::unique_ptr<testing::ScratchDir> dir_;
  static std::vector<fs::path> runs_;  // the three run folders, in order
  static std::vector<std::string> logs_;
};
std::unique_ptr<testing::ScratchDir> HistoryRounds::dir_;
std::vector<fs::path> HistoryRounds::runs_;
std::vector<std::string> HistoryRounds::logs_;

TEST_F(HistoryRounds, NoFileIsMinedTwiceAndTheManifestMatchesSha256sum) {
  ASSERT_EQ(runs_.size(), 3U);
  table::Database db;
  std::set<std::string> every;
  size_t total = 0;
  for (const fs::path& run : runs_) {
    const std::vector<std::string> mined =
        testing::parquet_column(db, run / "mined.parquet", "filepath");
    EXPECT_FALSE(mined.empty()) << run;
    for (const std::string& p : mined)
      EXPECT_TRUE(every.insert(p).second) << p << " mined again in " << run;
    total += mined.size();
  }
  EXPECT_EQ(every.size(), total);

  const fs::path history = *dir_ / "history";
  const auto manifest = nlohmann::json::parse(testing::read_text_file(history / "history.json"));
  ASSERT_EQ(manifest["rounds"].size(), 3U);
  for (size_t i = 0; i < 3; ++i) {
    const auto& round = manifest["rounds"][i];
    EXPECT_EQ(round["round"].get<int>(), static_cast<int>(i + 1));
    EXPECT_EQ(round["command"].get<std::string>(), "run");
    ASSERT_EQ(round["artifacts"].size(), 2U);
    for (const auto& a : round["artifacts"]) {
      const fs::path file = history / a["file"].get<std::string>();
      EXPECT_EQ(a["sha256"].get<std::string>(), sha256sum(file)) << file;
      EXPECT_EQ(a["bytes"].get<uint64_t>(), fs::file_size(file));
    }
    for (const auto& o : round["outputs"])
      EXPECT_EQ(o["sha256"].get<std::string>(), sha256sum(o["path"].get<std::string>()));
    // The round's parquet holds exactly the round's mined list.
    const auto file = history / fmt::format("round_{:04d}.parquet", i + 1);
    std::vector<std::string> recorded = testing::parquet_column(db, file, "filepath");
    std::vector<std::string> mined =
        testing::parquet_column(db, runs_[i] / "mined.parquet", "filepath");
    std::sort(recorded.begin(), recorded.end());
    std::sort(mined.begin(), mined.end());
    EXPECT_EQ(recorded, mined);
    EXPECT_EQ(testing::parquet_column(db, file, "DISTINCT round"),
              std::vector<std::string>{std::to_string(i + 1)});
    EXPECT_EQ(round["counts"]["mined"].get<size_t>(), mined.size());
  }
}

TEST_F(HistoryRounds, ExcludedByHistoryEqualsAnIndependentCount) {
  ASSERT_EQ(runs_.size(), 3U);
  table::Database db;
  const fs::path pool = *dir_ / "demo" / "data" / "pool.csv";
  std::vector<std::string> earlier;  // every earlier round's mined paths
  for (size_t i = 0; i < runs_.size(); ++i) {
    std::string in_list = "''";
    for (const std::string& p : earlier)
      in_list += ", " + testing::quoted(fs::path(p));
    const auto count = sql_rows(
        db, fmt::format("SELECT count(*) FROM read_csv({}, all_varchar=true) WHERE filepath IN "
                        "({})",
                        quoted(pool), in_list));
    EXPECT_EQ(summary_value(runs_[i] / "mining_summary.txt", "excluded_by_history"), count[0][0])
        << "round " << i + 1;
    EXPECT_EQ(summary_value(runs_[i] / "mining_summary.txt", "history_round"),
              std::to_string(i + 1));
    for (const std::string& p : testing::parquet_column(db, runs_[i] / "mined.parquet", "filepath"))
      earlier.push_back(p);
  }
  // The report names the round and shows the yields.
  const std::string report = testing::read_text_file(runs_[2] / "Mining_Report.md");
  EXPECT_THAT(report, HasSubstr("This is round 3 of the mining history"));
  // Still the documented 600–1,200 words, with the rounds, warnings and actions added.
  std::istringstream words(report);
  size_t count = 0;
  for (std::string w; words >> w;)
    ++count;
  EXPECT_GE(count, 600U);
  EXPECT_LE(count, 1200U);
  EXPECT_THAT(testing::read_text_file(runs_[2] / "report.html"), HasSubstr("<h2>Rounds</h2>"));
}

TEST_F(HistoryRounds, ATamperedRoundStopsTheNextOneAndRepairRebuildsTheManifest) {
  ASSERT_EQ(runs_.size(), 3U);
  const fs::path history = *dir_ / "tampered";
  fs::copy(*dir_ / "history", history, fs::copy_options::recursive);
  const fs::path round1 = history / "round_0001.parquet";
  table::Database db;
  const size_t rows = testing::parquet_column(db, round1, "filepath").size();
  // Round 1 loses a row: its file rewritten without it.
  testing::sql_exec(db, fmt::format("COPY (SELECT * FROM read_parquet({}) LIMIT {}) TO {} "
                                    "(FORMAT parquet)",
                                    quoted(round1), rows - 1, quoted(history / "x.parquet")));
  fs::rename(history / "x.parquet", round1);
  const std::string manifest_before = testing::read_text_file(history / "history.json");

  const fs::path out = *dir_ / "out4";
  const testing::ProcessResult failed =
      demo_round(*dir_ / "demo", out, {"history=" + history.string()});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_THAT(failed.err,
              HasSubstr(fmt::format("mining history '{}': round 1's artifact '{}' was modified",
                                    history.string(), round1.string())));
  EXPECT_THAT(failed.err, HasSubstr("history_repair=true"));
  EXPECT_EQ(testing::read_text_file(history / "history.json"), manifest_before);
  // Stopped before any image was embedded.
  for (const std::string& run : testing::directory_entries(out / "mining_results"))
    EXPECT_FALSE(fs::exists(out / "mining_results" / run / "target_embeddings.parquet"));

  const testing::ProcessResult repaired =
      demo_round(*dir_ / "demo", out, {"history=" + history.string(), "history_repair=true"});
  ASSERT_EQ(repaired.exit_code, 0) << repaired.err;
  EXPECT_THAT(repaired.err, HasSubstr("history_repair: round 1: round_0001.parquet changed"));
  EXPECT_THAT(repaired.err, HasSubstr(fmt::format("round 1: mined {} → {}", rows, rows - 1)));
  const auto manifest = nlohmann::json::parse(testing::read_text_file(history / "history.json"));
  ASSERT_EQ(manifest["rounds"].size(), 4U);
  EXPECT_EQ(manifest["rounds"][0]["artifacts"][0]["sha256"].get<std::string>(), sha256sum(round1));
  EXPECT_EQ(manifest["rounds"][0]["counts"]["mined"].get<size_t>(), rows - 1);
  ASSERT_EQ(manifest["repairs"].size(), 1U);
  EXPECT_THAT(manifest["repairs"][0].get<std::string>(), HasSubstr("round_0001.parquet changed"));
}

// A round whose history append fails (a full disk while writing its round file) appends
// nothing: the manifest and the folder stay as they were, and the same command then records
// the round.
TEST_F(HistoryRounds, ARoundThatFailsToAppendLeavesTheHistoryAsItWas) {
  ASSERT_EQ(runs_.size(), 3U);
  const fs::path history = *dir_ / "full_disk";
  fs::copy(*dir_ / "history", history, fs::copy_options::recursive);
  const std::vector<std::string> before = testing::directory_entries(history);
  const std::string manifest = testing::read_text_file(history / "history.json");
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).starts_with("ASAN_OPTIONS=")) continue;
    env.emplace_back(*e);
  }
  // Under AddressSanitizer the shim comes before its runtime: allowed for this one process.
  const char* asan = std::getenv("ASAN_OPTIONS");
  env.push_back(
      fmt::format("ASAN_OPTIONS={}:verify_asan_link_order=0", asan != nullptr ? asan : ""));
  env.emplace_back("LD_PRELOAD=" DEFT_FULL_DISK_PRELOAD);
  // The round file is staged (hidden) and written through DuckDB's own temporary beside it.
  env.emplace_back("DEFT_TEST_FULL_DISK_MATCH=round_0004.parquet.");
  const fs::path demo = *dir_ / "demo";
  const std::vector<std::string> args = {
      DEFT_BINARY,
      "mine",
      "source_parquet=" + (runs_[0] / "source_embeddings.parquet").string(),
      "target_parquet=" + (runs_[0] / "target_embeddings.parquet").string(),
      "output_parquet=" + (*dir_ / "full_disk_out" / "mined.parquet").string(),
      "history=" + history.string()};
  const testing::ProcessResult failed = testing::run_process(args, &env);
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_THAT(failed.err, HasSubstr("No space left on device"));
  EXPECT_EQ(testing::read_text_file(history / "history.json"), manifest);
  EXPECT_EQ(testing::directory_entries(history), before);

  const testing::ProcessResult again =
      testing::run_deft_binary(std::vector<std::string>(args.begin() + 1, args.end()));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto m = nlohmann::json::parse(testing::read_text_file(history / "history.json"));
  EXPECT_EQ(m["rounds"].size(), 4U);
  for (const std::string& name : testing::directory_entries(history))
    EXPECT_EQ(name.find("deft-tmp"), std::string::npos) << name;
}

// This process's environment plus `extra`.
std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    env.emplace_back(*e);
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// `deft run` records its round only once the run is complete: killed after its mining step
// (while writing its reports) and continued by the same command, it records one round, whose
// items are those of the run's final mined.parquet.
TEST_F(HistoryRounds, ARunKilledAfterItsMiningStepRecordsItsRoundOnce) {
  const fs::path demo = *dir_ / "demo";
  const auto command = [&](const std::string& name) {
    return std::vector<std::string>{DEFT_BINARY,
                                    "run",
                                    "-e",
                                    (demo / "embedding_spec.yaml").string(),
                                    "-m",
                                    (demo / "mining_spec.yaml").string(),
                                    "target_parquet=" + (demo / "data/targets.parquet").string(),
                                    "source_parquet=" + (demo / "data/pool.csv").string(),
                                    "output_dir=" + (*dir_ / (name + "_out")).string(),
                                    "history=" + (*dir_ / (name + "_history")).string()};
  };
  // Where the mining step's outputs are committed, from an undisturbed run's trace.
  const fs::path trace = *dir_ / "trace.txt";
  const auto env_trace = environment_with({"DEFT_FAULT_TRACE=" + trace.string()});
  ASSERT_EQ(testing::run_process(command("traced"), &env_trace).exit_code, 0);
  std::istringstream lines(testing::read_text_file(trace));
  std::vector<std::string> points;
  for (std::string line; std::getline(lines, line);)
    points.push_back(line);
  const auto mining = std::find(points.begin(), points.end(), "mining");
  ASSERT_NE(mining, points.end());
  const auto committed = std::find(mining, points.end(), "committed");
  ASSERT_NE(committed, points.end());
  // Every other point from there to the end (reports, the complete mark, the history's own
  // commit), and the last: killed there and continued, the run records exactly one round.
  const size_t first = static_cast<size_t>(committed - points.begin()) + 2;  // 1-based, next
  std::vector<size_t> kill_points;
  for (size_t k = first; k <= points.size(); k += 2)
    kill_points.push_back(k);
  if (kill_points.back() != points.size()) kill_points.push_back(points.size());
  for (const size_t kill_at : kill_points) {
    SCOPED_TRACE(
        fmt::format("killed at point {} of {} ({})", kill_at, points.size(), points[kill_at - 1]));
    const std::string name = fmt::format("killed{}", kill_at);
    const auto env_kill = environment_with({fmt::format("DEFT_FAULT_KILL_AT={}", kill_at)});
    const testing::ProcessResult killed = testing::run_process(command(name), &env_kill);
    ASSERT_EQ(killed.exit_code, 128 + 9) << killed.err;
    const testing::ProcessResult continued = testing::run_process(command(name));
    ASSERT_EQ(continued.exit_code, 0) << continued.err;
    // Each recorded round is the mined list of its own run folder, the newest folder's is the
    // last round, and no item is in two rounds. (Killed after the complete mark, the same
    // command starts a new folder: a second round when the first was recorded.)
    const fs::path history = *dir_ / (name + "_history");
    const auto manifest = nlohmann::json::parse(testing::read_text_file(history / "history.json"));
    const fs::path results = *dir_ / (name + "_out") / "mining_results";
    const auto runs = testing::directory_entries(results);
    ASSERT_FALSE(runs.empty());
    const size_t rounds = manifest["rounds"].size();
    ASSERT_GE(rounds, 1U);
    EXPECT_LE(rounds, runs.size()) << "a run folder's round recorded twice";
    table::Database db;
    std::set<std::string> every;
    std::set<std::string> folders_used;
    for (size_t r = rounds; r >= 1; --r) {  // the last round first: it claims the newest
      std::vector<std::string> recorded =
          testing::parquet_column(db, history / fmt::format("round_{:04d}.parquet", r), "filepath");
      std::sort(recorded.begin(), recorded.end());
      for (const std::string& p : recorded)
        EXPECT_TRUE(every.insert(p).second) << p << " in two rounds";
      std::string folder;
      for (auto run_it = runs.rbegin(); run_it != runs.rend(); ++run_it) {  // newest first
        const std::string& run = *run_it;
        std::vector<std::string> mined =
            testing::parquet_column(db, results / run / "mined.parquet", "filepath");
        std::sort(mined.begin(), mined.end());
        if (mined == recorded && folders_used.insert(run).second) {
          folder = run;
          break;
        }
      }
      EXPECT_FALSE(folder.empty()) << "round " << r << " is no run folder's mined list";
      if (r == rounds) EXPECT_EQ(folder, runs.back());
    }
  }
}

// Without a history, a pool whose `label` is neither text nor integers is mined as before:
// coverage is "not checked", not an error.
TEST(History, ALabelOfAnotherTypeLeavesCoverageUnchecked) {
  testing::ScratchDir dir;
  table::Database db;
  testing::sql_exec(db, fmt::format("COPY (SELECT 't.png' AS filepath, 1.5::DOUBLE AS label, "
                                    "[1.0, 0.0]::FLOAT[] AS embedding) TO {} (FORMAT parquet)",
                                    quoted(dir / "t.parquet")));
  testing::sql_exec(db, fmt::format("COPY (SELECT 'p' || i || '.png' AS filepath, i * 0.5::DOUBLE "
                                    "AS label, [1.0, i]::FLOAT[] AS embedding FROM range(4) t(i)) "
                                    "TO {} (FORMAT parquet)",
                                    quoted(dir / "p.parquet")));
  const fs::path out = dir / "m" / "mined.parquet";
  const testing::ProcessResult r = deft({"mine", "source_parquet=" + (dir / "p.parquet").string(),
                                         "target_parquet=" + (dir / "t.parquet").string(),
                                         "output_parquet=" + out.string(), "topn=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(summary_value(out.parent_path() / "mining_summary.txt", "coverage"),
            "not checked (a table has no label column)");
}

// An IVF index with a history: the excluded rows (24 after a topn=1 round, fewer than the
// index's 64 lists) are searched exactly, so round 2 runs.
TEST_F(HistoryRounds, AnApproximateIndexWorksWithAHistory) {
  for (int round = 1; round <= 2; ++round) {
    const testing::ProcessResult r =
        deft({"mine", "source_parquet=" + (runs_[0] / "source_embeddings.parquet").string(),
              "target_parquet=" + (runs_[0] / "target_embeddings.parquet").string(),
              "output_parquet=" + (*dir_ / fmt::format("ivf{}", round) / "mined.parquet").string(),
              "topn=1", "index=IVF64,Flat", "index_params=nprobe=64",
              "history=" + (*dir_ / "ivf_history").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(summary_value(*dir_ / "ivf2" / "mining_summary.txt", "history_round"), "2");
}

// A round whose pool was embedded by another encoder than the history's is refused, naming
// both; the history stays as it was.
TEST_F(HistoryRounds, AHistoryOfAnotherEncoderIsRefused) {
  ASSERT_EQ(runs_.size(), 3U);
  const fs::path history = *dir_ / "other_encoder";
  fs::copy(*dir_ / "history", history, fs::copy_options::recursive);
  const std::string manifest = testing::read_text_file(history / "history.json");
  table::Database db;
  // Both tables re-labelled with another weights digest: the same vectors, another encoder.
  std::string fingerprint =
      table::read_kv_metadata(db, runs_[0] / "source_embeddings.parquet").at("deft.encoder");
  const std::string was = "\"weights_digest\":\"none\"";
  ASSERT_NE(fingerprint.find(was), std::string::npos) << fingerprint;
  fingerprint.replace(fingerprint.find(was), was.size(),
                      "\"weights_digest\":\"xxh3-128:0123456789abcdef0123456789abcdef\"");
  for (const char* side : {"source", "target"}) {
    testing::sql_exec(
        db, fmt::format("COPY (SELECT * FROM read_parquet({})) TO {} (FORMAT parquet, "
                        "KV_METADATA {{'deft.encoder': '{}'}})",
                        quoted(runs_[0] / (std::string(side) + "_embeddings.parquet")),
                        quoted(*dir_ / (std::string(side) + "_other.parquet")), fingerprint));
  }
  const testing::ProcessResult r = testing::run_deft_binary(
      {"mine", "source_parquet=" + (*dir_ / "source_other.parquet").string(),
       "target_parquet=" + (*dir_ / "target_other.parquet").string(),
       "output_parquet=" + (*dir_ / "other_out" / "mined.parquet").string(),
       "history=" + history.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(fmt::format("mining history '{}' was made with", history.string())));
  EXPECT_THAT(r.err, HasSubstr("but this round's pool was embedded by"));
  EXPECT_EQ(testing::read_text_file(history / "history.json"), manifest);
}

// Items are identified by their group (source_group_id when the pool has it): a group mined in
// round 1 leaves all its rows out of round 2.
TEST(History, AMinedGroupLeavesAllItsRowsOut) {
  testing::ScratchDir dir;
  table::Database db;
  const fs::path targets = dir / "targets.parquet", pool = dir / "pool.parquet";
  testing::sql_exec(db, fmt::format("COPY (SELECT 't.png' AS filepath, [1.0, 0.0, 0.0]::FLOAT[] "
                                    "AS embedding) TO {} (FORMAT parquet)",
                                    quoted(targets)));
  testing::sql_exec(
      db, fmt::format("COPY (SELECT * FROM (VALUES ('a1.png', 'g1', [1.0, 0.0, 0.0]), ('a2.png', "
                      "'g1', [0.9, 0.1, 0.0]), ('b1.png', 'g2', [0.0, 1.0, 0.0]), ('c1.png', "
                      "'g3', [0.0, 0.0, 1.0])) v(filepath, source_group_id, e)) TO {} (FORMAT "
                      "parquet)",
                      quoted(pool)));
  testing::sql_exec(db, fmt::format("COPY (SELECT filepath, source_group_id, e::FLOAT[] AS "
                                    "embedding FROM read_parquet({})) TO {} (FORMAT parquet)",
                                    quoted(pool), quoted(dir / "pool_f.parquet")));
  std::vector<std::string> mined;
  for (int round = 1; round <= 2; ++round) {
    const fs::path out = dir / fmt::format("m{}", round) / "mined.parquet";
    const testing::ProcessResult r =
        deft({"mine", "source_parquet=" + (dir / "pool_f.parquet").string(),
              "target_parquet=" + targets.string(), "output_parquet=" + out.string(), "topn=1",
              "history=" + (dir / "history").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    mined.push_back(testing::parquet_column(db, out, "filepath").at(0));
    EXPECT_EQ(summary_value(out.parent_path() / "mining_summary.txt", "group_column"),
              "source_group_id");
    EXPECT_EQ(summary_value(out.parent_path() / "mining_summary.txt", "excluded_by_history"),
              round == 1 ? "0" : "2");
  }
  // a2 is the second nearest, but its group was mined: b1 and c1 tie, the lower row wins.
  EXPECT_EQ(mined, (std::vector<std::string>{"a1.png", "b1.png"}));
  EXPECT_EQ(testing::parquet_column(db, dir / "history" / "round_0002.parquet", "group_id"),
            std::vector<std::string>{"g2"});
}

// The forecast's rule, written here from the README: the rounds k = 1, 2, … while y·q^k ≥ 1
// and the running total stays within the unmined rows, q = y / y' when the yield fell; else
// unmined / y.
uint64_t expected_rounds_left(double y, double previous, double unmined) {
  if (y == 0) return 0;
  if (y >= previous) return static_cast<uint64_t>(unmined / y);
  const double q = y / previous;
  uint64_t k = 0;
  double total = 0;
  for (double next = y * q; next >= 1.0 && total + next <= unmined; next *= q) {
    total += next;
    ++k;
  }
  return k;
}

// One target; 48 pool rows within the distance threshold of it, 100 far away: with topn 20
// the rounds mine 20, 20, then the last 8 near rows.
TEST(History, APoolThatEmptiesNearItsTargetWarnsAndForecasts) {
  testing::ScratchDir dir;
  table::Database db;
  const fs::path targets = dir / "targets.parquet", pool = dir / "pool.parquet";
  testing::sql_exec(db, fmt::format("COPY (SELECT 't.png' AS filepath, [1.0, 0.0, 0.0, "
                                    "0.0]::FLOAT[] AS embedding) TO {} (FORMAT parquet)",
                                    quoted(targets)));
  testing::sql_exec(
      db, fmt::format("COPY (SELECT 'p' || lpad(i::VARCHAR, 3, '0') || '.png' AS filepath, "
                      "CASE WHEN i < 48 THEN [1.0, i * 0.001, 0.0, 0.0] ELSE [0.0, 1.0, "
                      "i * 0.001, 0.0] END::FLOAT[] AS embedding FROM range(148) t(i)) TO {} "
                      "(FORMAT parquet)",
                      quoted(pool)));
  std::vector<uint64_t> yields;
  fs::path summary;
  for (int round = 1; round <= 3; ++round) {
    const fs::path out = dir / fmt::format("m{}", round) / "mined.parquet";
    const testing::ProcessResult r =
        deft({"mine", "source_parquet=" + pool.string(), "target_parquet=" + targets.string(),
              "output_parquet=" + out.string(), "topn=20", "distance_threshold=0.1",
              "history=" + (dir / "history").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    summary = out.parent_path() / "mining_summary.txt";
    yields.push_back(std::stoull(summary_value(summary, "unique_mined")));
  }
  EXPECT_EQ(yields, (std::vector<uint64_t>{20, 20, 8}));
  EXPECT_EQ(summary_value(summary, "yield_per_round"), "1: 20, 2: 20, 3: 8");
  EXPECT_THAT(summary_value(summary, "history_warnings"),
              HasSubstr("the yield dropped by more than half, from 20 in round 2 to 8 in round 3"));
  // Unmined after round 3: the pool less every round's items.
  const uint64_t unmined = 148 - (20 + 20 + 8);
  const uint64_t expected = expected_rounds_left(8, 20, static_cast<double>(unmined));
  EXPECT_EQ(expected, 2U);  // 8 × 0.4 = 3.2, × 0.4 = 1.28, then below 1
  EXPECT_THAT(summary_value(summary, "rounds_left_forecast"),
              ::testing::StartsWith(std::to_string(expected) + " ("));
  // Of round 3's 20 candidates (the target's 20 nearest over the whole pool), 40 rows were
  // mined before: all 20.
  EXPECT_EQ(summary_value(summary, "candidates_already_mined"), "20 of 20 (100.0%)");
  EXPECT_EQ(summary_value(summary, "excluded_by_history"), "40");
}

// A target label the pool lacks is found before any image is decoded: under strict the run
// stops (nothing embedded); otherwise the warning comes before the embedding starts.
TEST(History, CoverageReportsATargetLabelAbsentFromThePoolBeforeDecoding) {
  testing::ScratchDir dir;
  // The targets' image files do not exist: decoding any of them would fail the row.
  testing::write_text_file(dir / "targets.csv",
                           "filepath,label\nnone/t1.png,crack\nnone/t2.png,scratch\n");
  testing::write_text_file(dir / "pool.csv", "filepath,label\nnone/p1.png,crack\n");
  testing::write_text_file(dir / "embedding_spec.yaml", "model: thumbnail\n");
  testing::write_text_file(dir / "mining_spec.yaml", "topn: 2\n");
  const auto run = [&](const std::string& strict) {
    return deft({"run", "-e", (dir / "embedding_spec.yaml").string(), "-m",
                 (dir / "mining_spec.yaml").string(),
                 "target_parquet=" + (dir / "targets.csv").string(),
                 "source_parquet=" + (dir / "pool.csv").string(),
                 "output_dir=" + (dir / "out").string(), "mining.strict=" + strict, "fresh=true"});
  };
  const testing::ProcessResult strict = run("true");
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_THAT(strict.err, HasSubstr("has the target label 'SCRATCH' (1 target)"));
  EXPECT_THAT(strict.err, Not(HasSubstr("deft run: embedding")));
  for (const std::string& run_dir : testing::directory_entries(dir / "out" / "mining_results"))
    EXPECT_FALSE(
        fs::exists(dir / "out" / "mining_results" / run_dir / "target_embeddings.parquet"));

  const testing::ProcessResult lenient = run("false");
  const size_t warned = lenient.err.find("has the target label 'SCRATCH'");
  const size_t embedding = lenient.err.find("deft run: embedding");
  ASSERT_NE(warned, std::string::npos) << lenient.err;
  ASSERT_NE(embedding, std::string::npos) << lenient.err;
  EXPECT_LT(warned, embedding);
}

}  // namespace
}  // namespace deft
