// `deft mine` under `mpirun --oversubscribe -np 1, 2, 3` on one machine: the mined parquet, the
// pairs and the summary equal the run without MPI; a rank killed mid-run fails the job, and the
// rerun matches. Needs deft built with Open MPI (scripts/setup.sh installs it).
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image_writer.h"
#include "test_support.h"

extern char** environ;

namespace deft {
namespace {

namespace fs = std::filesystem;
using testing::quoted;
using testing::ScratchDir;
using testing::sql_rows;

// The current environment plus Open MPI's permission to run as root (CI containers do).
std::vector<std::string> mpi_env() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    env.emplace_back(*e);
  env.emplace_back("OMPI_ALLOW_RUN_AS_ROOT=1");
  env.emplace_back("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1");
  // Under `make test-asan`, the ranks are checked for memory errors but not for leaks: Open
  // MPI's plugins keep allocations until exit and are unloaded by then, so LeakSanitizer sees
  // unattributable leaks. The mining code itself is leak-checked by mine_e2e_test.
  env.emplace_back("LSAN_OPTIONS=detect_leaks=0");
  return env;
}

std::vector<std::string> mpirun(int ranks, std::vector<std::string> deft_args) {
  std::vector<std::string> argv = {"/usr/bin/mpirun", "--oversubscribe", "-np",
                                   std::to_string(ranks), DEFT_BINARY};
  argv.insert(argv.end(), deft_args.begin(), deft_args.end());
  return argv;
}

// The summary without its timing and the output path it names (the runs write to different
// folders).
std::string without_seconds(const fs::path& summary) {
  std::istringstream in(testing::read_text_file(summary));
  std::string out, line;
  while (std::getline(in, line)) {
    if (line.rfind("seconds: ", 0) != 0 && line.rfind("  Results saved to: ", 0) != 0) {
      out += line + "\n";
    }
  }
  return out;
}

class MpiMine : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef DEFT_WITH_MPI
    GTEST_SKIP() << "deft was built without MPI (libopenmpi-dev missing at configure time)";
#endif
    ASSERT_TRUE(fs::exists("/usr/bin/mpirun")) << "scripts/setup.sh installs openmpi-bin";
  }
  std::vector<std::string> mine_args(const fs::path& targets, const fs::path& pool,
                                     const fs::path& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"mine", "target_parquet=" + targets.string(),
                                     "source_parquet=" + pool.string(),
                                     "output_parquet=" + out.string(), "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
};

TEST_F(MpiMine, OneTwoAndThreeRanksGiveTheSingleProcessOutputs) {
  ScratchDir dir;
  // The demo's embeddings: 24 labelled targets, 240 pool images (thumbnail encoder).
  ASSERT_EQ(testing::run_deft_binary({"demo", "--output-dir", (dir / "demo").string()}).exit_code,
            0);
  const fs::path targets = dir / "demo/run/target_embeddings.parquet";
  const fs::path pool = dir / "demo/run/source_embeddings.parquet";
  for (const char* mode : {"after", "within"}) {
    SCOPED_TRACE(mode);
    const std::vector<std::string> extra = {"topn=6", "filter_by_label=true",
                                            std::string("label_mode=") + mode,
                                            "memory_budget_mb=0.05"};
    const fs::path single = dir / mode / "single" / "mined.parquet";
    const auto r = testing::run_deft_binary(mine_args(targets, pool, single, extra));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    table::Database db;
    const auto mined = sql_rows(db, "SELECT * FROM " + quoted(single));
    const auto pairs =
        sql_rows(db, "SELECT * FROM " + quoted(fs::path(single.string() + ".pairs.parquet")));
    ASSERT_GT(mined.size(), 0U);
    for (int ranks : {1, 2, 3}) {
      SCOPED_TRACE(fmt::format("{} ranks", ranks));
      const fs::path out = dir / mode / fmt::format("np{}", ranks) / "mined.parquet";
      const auto env = mpi_env();
      const auto m =
          testing::run_process(mpirun(ranks, mine_args(targets, pool, out, extra)), &env);
      ASSERT_EQ(m.exit_code, 0) << m.err;
      EXPECT_EQ(sql_rows(db, "SELECT * FROM " + quoted(out)), mined);
      EXPECT_EQ(sql_rows(db, "SELECT * FROM " + quoted(fs::path(out.string() + ".pairs.parquet"))),
                pairs);
      EXPECT_EQ(without_seconds(out.parent_path() / "mining_summary.txt"),
                without_seconds(single.parent_path() / "mining_summary.txt"));
    }
  }
}

// deft select's passes with the pool sharded across ranks: a shallow search (expansion 1) so
// targets collide and retry over several passes, and a memory budget small enough that the
// pool is re-read in blocks. Every output file equals the single process's.
TEST_F(MpiMine, SelectOnOneTwoAndThreeRanksGivesTheSingleProcessOutputs) {
  ScratchDir dir;
  ASSERT_EQ(testing::run_deft_binary({"demo", "--output-dir", (dir / "demo").string()}).exit_code,
            0);
  const fs::path pool_file = dir / "demo/run/source_embeddings.parquet";
  const auto args = [&](const fs::path& out, const fs::path& pool) {
    return std::vector<std::string>{
        "select",
        "target_path=" + (dir / "demo/run/target_embeddings.parquet").string(),
        "source_path=" + pool.string(),
        "output_dir=" + out.string(),
        "desired_unique_count=100",
        "candidate_expansion_factor=1",
        "memory_budget_mb=0.02",
        "--quiet"};
  };
  const auto r = testing::run_deft_binary(args(dir / "single", pool_file));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> files = testing::directory_entries(dir / "single");
  ASSERT_GE(std::count_if(files.begin(), files.end(),
                          [](const std::string& f) { return f.find("_iteration_") != f.npos; }),
            2);
  table::Database db;
  // `ranks` ranks on `pool` into `out`: the single process's files, every parquet row for row.
  const auto expect_single_outputs = [&](int ranks, const fs::path& pool, const fs::path& out) {
    const auto env = mpi_env();
    const auto m = testing::run_process(mpirun(ranks, args(out, pool)), &env);
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_EQ(testing::directory_entries(out), files);
    for (const std::string& f : files) {
      if (f.ends_with(".parquet")) {
        EXPECT_EQ(sql_rows(db, "SELECT * FROM " + quoted(out / f)),
                  sql_rows(db, "SELECT * FROM " + quoted(dir / "single" / f)))
            << f;
      }
    }
  };
  for (int ranks : {1, 2, 3}) {
    SCOPED_TRACE(fmt::format("{} ranks", ranks));
    const fs::path out = dir / fmt::format("np{}", ranks);
    expect_single_outputs(ranks, pool_file, out);
    EXPECT_EQ(testing::read_text_file(out / "summary.json"),
              testing::read_text_file(dir / "single/summary.json"));
  }
  // The same pool as a folder of three parquet files (its rows split in order): each rank
  // reads only the files holding its share's rows (table/parquet_share.h), shares that start
  // and end inside files; the outputs are the single process's on the single file.
  testing::split_parquet(db, pool_file, dir / "pool_parts", 3);
  for (int ranks : {2, 3}) {
    SCOPED_TRACE(fmt::format("{} ranks on the folder", ranks));
    expect_single_outputs(ranks, dir / "pool_parts", dir / fmt::format("folder_np{}", ranks));
  }
}

TEST_F(MpiMine, EmbedOnOneTwoAndThreeRanksEqualsTheSingleProcessOutput) {
  ScratchDir dir;
  ASSERT_EQ(testing::run_deft_binary({"demo", "--output-dir", (dir / "demo").string()}).exit_code,
            0);
  // The demo's pool, plus two rows that fail: the sidecar must come out the same too.
  std::string table = testing::read_text_file(dir / "demo/data/pool.csv");
  table += "images/pool/missing.png,rust\nimages/pool/also_missing.png,dent\n";
  testing::write_text_file(dir / "demo/data/pool_plus.csv", table);
  const auto args = [&](const fs::path& out) {
    return std::vector<std::string>{"embed",
                                    "input_parquet=" + (dir / "demo/data/pool_plus.csv").string(),
                                    "output_parquet=" + out.string(),
                                    "model=thumbnail",
                                    "chunk_rows=16",
                                    "--quiet"};
  };
  const fs::path single = dir / "single/emb.parquet";
  const auto r = testing::run_deft_binary(args(single));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  table::Database db;
  const auto rows = [&](const fs::path& p) {
    return sql_rows(
        db, "SELECT * EXCLUDE (deft_file), deft_file.size, deft_file.xxh3_128 FROM " + quoted(p));
  };
  const auto failed = [&](const fs::path& p) {
    return sql_rows(db, "SELECT * FROM " + quoted(fs::path(p.string() + ".failed.parquet")));
  };
  const auto metadata = [&](const fs::path& p) {
    return sql_rows(db, "SELECT key, decode(value) FROM parquet_kv_metadata(" + quoted(p) +
                            ") WHERE key IN ('deft.encoder', 'deft.rows_in', 'deft.embedded', "
                            "'deft.failures') ORDER BY 1");
  };
  ASSERT_EQ(rows(single).size(), 240U);
  ASSERT_EQ(failed(single).size(), 2U);
  for (int ranks : {1, 2, 3}) {
    SCOPED_TRACE(fmt::format("{} ranks", ranks));
    const fs::path out = dir / fmt::format("np{}/emb.parquet", ranks);
    const auto env = mpi_env();
    const auto m = testing::run_process(mpirun(ranks, args(out)), &env);
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_EQ(rows(out), rows(single));  // embeddings bit-identical, input order
    EXPECT_EQ(failed(out), failed(single));
    EXPECT_EQ(metadata(out), metadata(single));
    EXPECT_EQ(testing::directory_entries(out.parent_path()),
              (std::vector<std::string>{"emb.parquet", "emb.parquet.failed.parquet"}));
  }
}

TEST_F(MpiMine, RunOnTwoAndThreeRanksEqualsTheSingleProcessRun) {
  ScratchDir dir;
  ASSERT_EQ(testing::run_deft_binary({"demo", "--output-dir", (dir / "demo").string()}).exit_code,
            0);
  const auto args = [&](const std::string& run_dir) {
    return std::vector<std::string>{
        "run",
        "-e",
        (dir / "demo/embedding_spec.yaml").string(),
        "-m",
        (dir / "demo/mining_spec.yaml").string(),
        "target_parquet=" + (dir / "demo/data/targets.parquet").string(),
        "source_parquet=" + (dir / "demo/data/pool.csv").string(),
        "output_dir=" + (dir / "out").string(),
        "run_dir=" + (dir / "out" / run_dir).string(),
        "--quiet"};
  };
  const auto r = testing::run_deft_binary(args("single"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  table::Database db;
  const auto rows = [&](const std::string& run_dir, const char* file) {
    return sql_rows(db, "SELECT * FROM " + quoted(dir / "out" / run_dir / file));
  };
  for (int ranks : {2, 3}) {
    SCOPED_TRACE(fmt::format("{} ranks", ranks));
    const std::string name = fmt::format("np{}", ranks);
    const auto env = mpi_env();
    const auto m = testing::run_process(mpirun(ranks, args(name)), &env);
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_EQ(testing::directory_entries(dir / "out" / name),
              testing::directory_entries(dir / "out" / "single"));
    EXPECT_EQ(rows(name, "mined.parquet"), rows("single", "mined.parquet"));
    EXPECT_EQ(sql_rows(db, "SELECT filepath, embedding FROM " +
                               quoted(dir / "out" / name / "source_embeddings.parquet")),
              sql_rows(db, "SELECT filepath, embedding FROM " +
                               quoted(dir / "out/single/source_embeddings.parquet")));
    EXPECT_EQ(without_seconds(dir / "out" / name / "mining_summary.txt"),
              without_seconds(dir / "out/single/mining_summary.txt"));
  }
}

// The pids of `parent`'s children named `name`.
std::vector<pid_t> children(pid_t parent, const std::string& name) {
  std::vector<pid_t> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const size_t open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && line.substr(open + 1, close - open - 1) == name)
      out.push_back(std::stoi(pid));
  }
  return out;
}

// Starts `argv` (mpirun with 2 ranks), SIGKILLs rank 1 after `after`, and expects mpirun to
// fail.
// `ready` (when given) is polled first, for up to a minute: a slow start (a sanitizer build,
// a loaded machine) must not make the kill land before the work it is meant to interrupt.
void kill_rank_midway(const std::vector<std::string>& argv_text, std::chrono::milliseconds after,
                      const std::function<bool()>& ready = {}) {
  const auto env = mpi_env();
  std::vector<char*> argv, envp;
  for (const auto& a : argv_text)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t launcher = fork();
  if (launcher == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  std::vector<pid_t> ranks;
  for (int tries = 0; tries < 200 && ranks.size() < 2; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ranks = children(launcher, "deft");
  }
  ASSERT_EQ(ranks.size(), 2U) << "the two ranks did not start";
  for (int tries = 0; ready && !ready() && tries < 1200; ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::this_thread::sleep_for(after);
  ::kill(ranks.back(), SIGKILL);
  int status = 0;
  ::waitpid(launcher, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << "status " << status;
}

TEST_F(MpiMine, ARankKilledMidRunFailsTheJobAndTheRerunMatches) {
  ScratchDir dir;
  table::Database db;
  // 120,000 pool rows of 32 floats against 6,000 targets, mined in blocks of 80 rows: a few
  // seconds of work per rank (300 targets took seconds through FAISS; the bounded search
  // finishes them in half a second, before the kill).
  testing::sql_exec(db,
                    "COPY (SELECT 'pool/' || i || '.jpg' AS filepath, list_transform(range(32), "
                    "x -> ((hash(i * 32 + x) % 1000) / 1000.0)::FLOAT) AS embedding FROM "
                    "range(120000) t(i)) TO " +
                        quoted(dir / "pool.parquet") + " (FORMAT parquet)");
  testing::sql_exec(db,
                    "COPY (SELECT 'targets/' || i || '.jpg' AS filepath, list_transform(range(32), "
                    "x -> ((hash(i * 977 + x) % 1000) / 1000.0)::FLOAT) AS embedding FROM "
                    "range(6000) t(i)) TO " +
                        quoted(dir / "targets.parquet") + " (FORMAT parquet)");
  const auto args = mine_args(dir / "targets.parquet", dir / "pool.parquet",
                              dir / "m/mined.parquet", {"memory_budget_mb=0.02"});

  kill_rank_midway(mpirun(2, args), std::chrono::milliseconds(700));
  EXPECT_FALSE(fs::exists(dir / "m/mined.parquet"));

  // The rerun completes and equals the single-process run.
  const auto env = mpi_env();
  const auto again = testing::run_process(mpirun(2, args), &env);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto single = testing::run_deft_binary(
      mine_args(dir / "targets.parquet", dir / "pool.parquet", dir / "s/mined.parquet"));
  ASSERT_EQ(single.exit_code, 0) << single.err;
  EXPECT_EQ(sql_rows(db, "SELECT * FROM " + quoted(dir / "m/mined.parquet.pairs.parquet")),
            sql_rows(db, "SELECT * FROM " + quoted(dir / "s/mined.parquet.pairs.parquet")));
}

TEST_F(MpiMine, AnEmbedRankKilledMidRunFailsTheJobAndTheRerunResumesToTheSameOutput) {
  ScratchDir dir;
  // 48 PNGs of 1200×900, listed 16 times: decoding them takes seconds on one thread per rank.
  std::string table = "filepath\n";
  fs::create_directories(dir / "images");
  for (int i = 0; i < 48; ++i) {
    testing::write_image(dir / fmt::format("images/{:03}.png", i), 1200, 900, 3,
                         static_cast<unsigned>(i % 8));
  }
  for (int r = 0; r < 16 * 48; ++r)
    table += fmt::format("images/{:03}.png\n", r % 48);
  testing::write_text_file(dir / "table.csv", table);
  const auto args = [&](const fs::path& out) {
    return std::vector<std::string>{"embed",
                                    "input_parquet=" + (dir / "table.csv").string(),
                                    "output_parquet=" + out.string(),
                                    "model=thumbnail",
                                    "threads=1",
                                    "chunk_rows=16",
                                    "shrink_on_load=false",
                                    "--quiet"};
  };
  // Killed once rank 0 has set up the work folder, 1.2 s into the embedding.
  kill_rank_midway(mpirun(2, args(dir / "m/emb.parquet")), std::chrono::milliseconds(1200),
                   [&] { return fs::exists(dir / "m/.emb.parquet.deft-partial/manifest.json"); });
  EXPECT_FALSE(fs::exists(dir / "m/emb.parquet"));
  // The chunks finished before the kill are kept for the rerun.
  EXPECT_TRUE(fs::exists(dir / "m/.emb.parquet.deft-partial/manifest.json"));

  const auto env = mpi_env();
  const auto again = testing::run_process(mpirun(2, args(dir / "m/emb.parquet")), &env);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto single = testing::run_deft_binary(args(dir / "s/emb.parquet"));
  ASSERT_EQ(single.exit_code, 0) << single.err;
  table::Database db;
  EXPECT_EQ(sql_rows(db, "SELECT filepath, embedding FROM " + quoted(dir / "m/emb.parquet")),
            sql_rows(db, "SELECT filepath, embedding FROM " + quoted(dir / "s/emb.parquet")));
}

}  // namespace
}  // namespace deft

namespace deft {
namespace {

// A summary's lines without those naming where this run wrote (its history folder).
std::string without_folders(const fs::path& summary) {
  std::istringstream in(without_seconds(summary));
  std::string out, line;
  while (std::getline(in, line)) {
    if (line.rfind("history: ", 0) != 0) out += line + "\n";
  }
  return out;
}

// Two rounds with a mining history, on 2 ranks and in one process: every round's mined list,
// pairs and summary (excluded rows, candidates already mined, the forecast) are the same.
TEST_F(MpiMine, HistoryRoundsOnTwoRanksEqualTheSingleProcessRounds) {
  ScratchDir dir;
  ASSERT_EQ(testing::run_deft_binary({"demo", "--output-dir", (dir / "demo").string()}).exit_code,
            0);
  const fs::path targets = dir / "demo/run/target_embeddings.parquet";
  const fs::path pool = dir / "demo/run/source_embeddings.parquet";
  table::Database db;
  for (int round = 1; round <= 2; ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    const auto out = [&](const char* who) {
      return dir / who / fmt::format("r{}", round) / "mined.parquet";
    };
    const auto extra = [&](const char* who) {
      return std::vector<std::string>{"topn=6", "memory_budget_mb=0.05",
                                      "history=" + (dir / who / "history").string()};
    };
    const auto r =
        testing::run_deft_binary(mine_args(targets, pool, out("single"), extra("single")));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto env = mpi_env();
    const auto m =
        testing::run_process(mpirun(2, mine_args(targets, pool, out("np2"), extra("np2"))), &env);
    ASSERT_EQ(m.exit_code, 0) << m.err;
    EXPECT_EQ(sql_rows(db, "SELECT * FROM " + quoted(out("np2"))),
              sql_rows(db, "SELECT * FROM " + quoted(out("single"))));
    EXPECT_EQ(without_folders(out("np2").parent_path() / "mining_summary.txt"),
              without_folders(out("single").parent_path() / "mining_summary.txt"));
    EXPECT_THAT(testing::read_text_file(out("np2").parent_path() / "mining_summary.txt"),
                ::testing::HasSubstr(fmt::format("history_round: {}", round)));
  }
}

}  // namespace
}  // namespace deft
