// Faults on every stage (issue 19, item 5): `deft mine`, unique matching (`deft select`),
// `deft embed`, and `deft run` in both modes (its embedding, mining and report steps) are
//   - killed (SIGKILL) at points drawn at random from every point an undisturbed run reaches
//     (src/common/fault_injection.h: chunks, pool blocks, rows appended, outputs finished,
//     commits), the seed printed and settable (DEFT_TEST_SEED);
//   - run on a full disk: every write to one output fails with ENOSPC, for each output in turn
//     (tests/support/full_disk_preload.cpp, the kernel's errno through LD_PRELOAD);
//   - pointed at a read-only output folder (as an unprivileged user when the tests run as
//     root, whom permissions do not stop);
//   - started a second time while the first is held at a point of its run.
// Each leaves the previous outputs as they were (byte for byte), or — for a kill after the
// last rename of an output set — the complete new set, never a mix; leaves no temporary file
// where users look (hidden temporaries of a killed run are removed by the next run); and the
// same command run again completes with the outputs of an undisturbed run: every parquet
// equal row for row, every text output equal but for its timings and run-folder names
// (Mining_Report.md and report.html narrate what was reused, and may differ there).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image_writer.h"
#include "table/duckdb_handles.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::quoted;

using Files = std::map<std::string, std::string>;  // relative path → contents

bool hidden(const fs::path& relative) {
  for (const fs::path& part : relative) {
    if (!part.empty() && part.string()[0] == '.') return true;
  }
  return false;
}

bool debris(const std::string& name) {
  return name.find(".deft-tmp") != std::string::npos ||
         name.find(".deft-old-") != std::string::npos;
}

// Every file under `root` a user sees (no hidden component), with its bytes.
Files visible_files(const fs::path& root) {
  Files files;
  if (!fs::exists(root)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const fs::path relative = fs::relative(entry.path(), root);
    if (entry.is_regular_file() && !hidden(relative))
      files[relative.string()] = testing::read_text_file(entry.path());
  }
  return files;
}

// deft's temporaries and backups anywhere under `root`, hidden or not.
std::vector<std::string> debris_under(const fs::path& root) {
  std::vector<std::string> found;
  if (!fs::exists(root)) return found;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (debris(entry.path().filename().string())) found.push_back(entry.path().string());
  }
  return found;
}

// What an output means, independent of when and where it was written: parquet rows; text
// without timing lines and with the run folder's name replaced.
std::string meaning(const fs::path& file, const std::string& folder_name) {
  const std::string ext = file.extension().string();
  if (ext == ".parquet") {
    table::Database db;
    std::string text;
    for (const auto& row : testing::sql_rows(db, "SELECT * FROM " + quoted(file)))
      text += fmt::format("{}\n", fmt::join(row, "\t"));
    return text;
  }
  std::string text = testing::read_text_file(file);
  if (!folder_name.empty()) text = std::regex_replace(text, std::regex(folder_name), "RUN");
  if (ext == ".txt" || ext == ".json" || ext == ".yaml") {
    std::istringstream in(text);
    std::string line;
    std::string kept;
    while (std::getline(in, line)) {
      if (line.find("seconds") != std::string::npos) continue;
      kept += line + "\n";
    }
    return kept;
  }
  return text;
}

// The files that differ between two sets ("" when none): names only, the contents are long.
std::string differences(const Files& a, const Files& b) {
  std::string names;
  for (const auto& [path, contents] : a) {
    const auto it = b.find(path);
    if (it == b.end()) {
      names += path + " (only in the first) ";
    } else if (it->second != contents) {
      names += path + " (differs) ";
    }
  }
  for (const auto& [path, contents] : b) {
    if (a.find(path) == a.end()) names += path + " (only in the second) ";
  }
  return names;
}

// A command and where its outputs go; `previous` is the same command with other settings,
// whose outputs a faulty run must leave alone.
struct Stage {
  std::string name;
  std::vector<std::string> args;
  std::vector<std::string> previous_args;
  std::string out;   // the output folder, relative to the scratch folder
  bool run_folders;  // `deft run`: each run in its own dated folder under out/mining_results
  std::vector<std::string> narratives;  // outputs compared by presence only
};

class Faults : public ::testing::TestWithParam<Stage> {
 protected:
  void SetUp() override {
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
    table::Database db;
    const auto table_sql = [](const char* prefix, int rows, int salt) {
      return fmt::format(
          "SELECT '{0}/' || i || '.jpg' AS filepath, list_transform(range(16), j -> ((hash(i * "
          "16 + j + {1}) % 1000)::DOUBLE / 1000)) AS embedding FROM range({2}) t(i)",
          prefix, salt, rows);
    };
    testing::sql_exec(db, "COPY (" + table_sql("targets", 30, 7) + ") TO " +
                              quoted(dir / "targets.parquet") + " (FORMAT parquet)");
    testing::sql_exec(db, "COPY (" + table_sql("pool", 600, 0) + ") TO " +
                              quoted(dir / "pool.parquet") + " (FORMAT parquet)");
    fs::create_directories(dir / "images");
    std::string targets = "filepath,label\n";
    std::string pool = "filepath,label\n";
    for (int i = 0; i < 36; ++i) {
      const std::string name = fmt::format("images/{}{:02}.png", i < 6 ? "t" : "p", i);
      testing::write_image(dir / name, 40 + i % 5, 30 + i % 3, 3, static_cast<unsigned>(i));
      (i < 6 ? targets : pool) += name + "," + (i % 2 ? "dent" : "crack") + "\n";
    }
    testing::write_text_file(dir / "targets.csv", targets);
    testing::write_text_file(dir / "pool.csv", pool);
    testing::write_text_file(dir / "embedding_spec.yaml",
                             "model: thumbnail\nbatch_size: 4\nchunk_rows: 8\n");
    testing::write_text_file(dir / "mining_spec.yaml", "topn: 3\n");
    testing::write_text_file(dir / "unique_spec.yaml", "desired_unique_count: 6\n");
  }

  // This process's environment with `extra` first (getenv takes the first of a name).
  static std::vector<std::string> environment(std::vector<std::string> extra) {
    for (char** e = environ; *e != nullptr; ++e)
      extra.emplace_back(*e);
    return extra;
  }

  static std::vector<std::string> deft_argv(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {DEFT_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--quiet");
    return argv;
  }

  testing::ProcessResult deft(const std::vector<std::string>& args,
                              std::vector<std::string> env = {}) {
    const std::vector<std::string> full = environment(std::move(env));
    return testing::run_process(deft_argv(args), &full, dir.path());
  }

  fs::path out() const { return dir.path() / GetParam().out; }

  // The folder holding the outputs of the newest complete run (the output folder itself, for
  // the other stages).
  fs::path newest_outputs(const fs::path& root) const {
    if (!GetParam().run_folders) return root;
    const fs::path runs = root / "mining_results";
    std::vector<std::string> names = testing::directory_entries(runs);
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
      const fs::path manifest = runs / *it / "run_manifest.json";
      if (fs::exists(manifest) &&
          testing::read_text_file(manifest).find("\"state\": \"complete\"") != std::string::npos)
        return runs / *it;
    }
    return {};
  }

  // The meaning of every output of the newest complete run under `root`.
  Files meanings(const fs::path& root) const {
    Files result;
    const fs::path folder = newest_outputs(root);
    if (folder.empty()) return result;
    const std::string folder_name = GetParam().run_folders ? folder.filename().string() : "";
    for (const auto& [relative, bytes] : visible_files(folder)) {
      const auto& narratives = GetParam().narratives;
      result[relative] = std::find(narratives.begin(), narratives.end(),
                                   fs::path(relative).filename()) != narratives.end()
                             ? "(present)"
                             : meaning(folder / relative, folder_name);
    }
    return result;
  }

  // The outputs of an undisturbed run over the previous outputs, and the fault points it
  // reaches (over previous outputs a run may do more: remove a stale file, reuse embeddings).
  void run_undisturbed() {
    ASSERT_NO_FATAL_FAILURE(write_previous());
    const fs::path trace = dir / "trace";
    const auto r = deft(GetParam().args, {"DEFT_FAULT_TRACE=" + trace.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    reference = meanings(out());
    ASSERT_FALSE(reference.empty());
    std::istringstream in(testing::read_text_file(trace));
    for (std::string line; std::getline(in, line);)
      points.push_back(line);
    ASSERT_GT(points.size(), 3U);
  }

  // The previous outputs in out/, as a user would have them before the faulty run: made by
  // the previous command the first time, put back from their bytes after that.
  void write_previous() {
    fs::remove_all(out());
    if (previous.empty()) {
      const auto r = deft(GetParam().previous_args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      previous = visible_files(out());
      ASSERT_FALSE(previous.empty());
      return;
    }
    for (const auto& [relative, bytes] : previous) {
      fs::create_directories((out() / relative).parent_path());
      testing::write_text_file(out() / relative, bytes);
    }
  }

  // After a faulty run: the previous outputs are as they were (for `deft run`, its earlier
  // folders), or — `new_set_allowed` — the whole new set; nothing half-written is visible.
  void expect_previous_outputs_kept(const std::string& context, bool new_set_allowed) {
    const Files now = visible_files(out());
    if (GetParam().run_folders) {
      for (const auto& [path, bytes] : previous) {
        const auto it = now.find(path);
        EXPECT_TRUE(it != now.end() && it->second == bytes) << context << ": " << path;
      }
      for (const auto& [path, bytes] : now) {
        EXPECT_FALSE(debris(path)) << context << ": " << path;
      }
      return;
    }
    if (now == previous) return;
    EXPECT_TRUE(new_set_allowed && meanings(out()) == reference)
        << context << ": the outputs are neither the previous ones nor the complete new set ("
        << differences(meanings(out()), reference) << ")";
  }

  // The same command again completes with the undisturbed outputs and leaves no debris.
  void expect_rerun_completes(const std::string& context) {
    const auto r = deft(GetParam().args);
    ASSERT_EQ(r.exit_code, 0) << context << ": " << r.err;
    EXPECT_EQ(differences(meanings(out()), reference), "") << context;
    EXPECT_THAT(debris_under(out()), ::testing::IsEmpty()) << context;
  }

  testing::ScratchDir dir;
  Files reference;
  Files previous;
  std::vector<std::string> points;
};

// Up to `count` points: the first and the last, every commit, and a random draw of the rest.
std::vector<size_t> draw_points(const std::vector<std::string>& points, size_t count,
                                unsigned seed) {
  std::set<size_t> chosen = {1, points.size()};
  for (size_t i = 0; i < points.size(); ++i) {
    if (points[i] == "commit" || points[i] == "committed" || points[i] == "commit rename")
      chosen.insert(i + 1);
  }
  std::mt19937 random(seed);
  std::uniform_int_distribution<size_t> any(1, points.size());
  for (int tries = 0; chosen.size() < std::min(count, points.size()) && tries < 1000; ++tries)
    chosen.insert(any(random));
  return {chosen.begin(), chosen.end()};
}

unsigned test_seed() {
  const char* value = std::getenv("DEFT_TEST_SEED");
  return value != nullptr ? static_cast<unsigned>(std::strtoul(value, nullptr, 10))
                          : std::random_device{}();
}

TEST_P(Faults, AKillAtAnyPointKeepsThePreviousOutputsAndTheRerunCompletes) {
  ASSERT_NO_FATAL_FAILURE(run_undisturbed());
  const unsigned seed = test_seed();
  SCOPED_TRACE(fmt::format("DEFT_TEST_SEED={} ({} points)", seed, points.size()));
  for (const size_t point : draw_points(points, 10, seed)) {
    // The killed run traces its own points: the last is where it stopped (the order of points
    // from different threads may differ from the undisturbed run's).
    const fs::path kill_trace = dir / "kill_trace";
    fs::remove(kill_trace);
    ASSERT_NO_FATAL_FAILURE(write_previous());
    const auto r = deft(GetParam().args, {fmt::format("DEFT_FAULT_KILL_AT={}", point),
                                          "DEFT_FAULT_TRACE=" + kill_trace.string()});
    std::string kind;
    std::istringstream traced(testing::read_text_file(kill_trace));
    for (std::string line; std::getline(traced, line);)
      kind = line;
    const std::string context =
        fmt::format("killed at point {} of {} ({})", point, points.size(), kind);
    ASSERT_EQ(r.exit_code, 128 + SIGKILL) << context << ": " << r.err;
    if (kind == "commit rename" && !GetParam().run_folders) {
      // Killed between two renames of an output set: a mix, until the next run takes the lock
      // and finishes the set from its journal. That run, killed at its first point (after the
      // lock, before it writes), leaves the complete new set.
      const auto probe = deft(GetParam().args, {"DEFT_FAULT_KILL_AT=1"});
      ASSERT_EQ(probe.exit_code, 128 + SIGKILL) << context << ": " << probe.err;
      EXPECT_EQ(differences(meanings(out()), reference), "") << context << ": not completed";
    } else {
      expect_previous_outputs_kept(context, kind == "committed");
    }
    expect_rerun_completes(context);
  }
}

TEST_P(Faults, AFullDiskDuringEachOutputKeepsThePreviousOutputsAndTheRerunCompletes) {
  ASSERT_NO_FATAL_FAILURE(run_undisturbed());
  std::set<std::string> names;
  for (const auto& [relative, meaning] : reference)
    names.insert(fs::path(relative).filename().string());
  for (const std::string& name : names) {
    if (name.ends_with(".jpg")) continue;  // report thumbnails: one of them stands for all
    // From the first byte, and (parquet files, the large ones) in the middle of a file.
    for (const long long after : {0LL, 4096LL}) {
      if (after > 0 && !name.ends_with(".parquet")) continue;
      const std::string context = fmt::format("ENOSPC writing {} after {} bytes", name, after);
      ASSERT_NO_FATAL_FAILURE(write_previous());
      // (An AddressSanitizer build wants its runtime first; the preloaded library goes first.)
      const char* asan = std::getenv("ASAN_OPTIONS");
      const auto r = deft(
          GetParam().args,
          {"LD_PRELOAD=" DEFT_FULL_DISK_PRELOAD, "DEFT_TEST_FULL_DISK_MATCH=/." + name + ".",
           fmt::format("DEFT_TEST_FULL_DISK_AFTER={}", after),
           fmt::format("ASAN_OPTIONS={}:verify_asan_link_order=0", asan != nullptr ? asan : "")});
      // From the first byte the write must fail; later, the output may be smaller than `after`.
      if (after == 0) {
        EXPECT_NE(r.exit_code, 0) << context << ": the full disk went unnoticed";
      }
      if (r.exit_code == 0) continue;
      EXPECT_EQ(r.exit_code, 1) << context << ": " << r.err;
      EXPECT_THAT(r.err, HasSubstr("No space left on device")) << context;
      // One line, naming what failed (and a hint line when there is one).
      EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 2) << context << ": " << r.err;
      expect_previous_outputs_kept(context, false);
      expect_rerun_completes(context);
    }
  }
}

TEST_P(Faults, AReadOnlyOutputFolderIsAOneLineErrorAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(write_previous());
  const fs::path locked = GetParam().run_folders ? out() / "mining_results" : out();
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read |
                              fs::perms::others_exec);
  std::vector<std::string> argv = deft_argv(GetParam().args);
  // Root writes through any permission: the run is then made as the unprivileged `nobody`.
  if (::geteuid() == 0) {
    argv.insert(argv.begin(),
                {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  }
  const auto r = testing::run_process(argv, nullptr, dir.path());
  fs::permissions(locked, fs::perms::owner_all, fs::perm_options::add);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(fs::absolute(locked).lexically_normal().string())) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Permission denied")) << r.err;
  EXPECT_EQ(differences(visible_files(out()), previous), "");
  EXPECT_THAT(debris_under(out()), ::testing::IsEmpty());
}

TEST_P(Faults, ASecondRunWhileTheFirstIsLiveFailsAtOnceAndTheFirstCompletes) {
  ASSERT_NO_FATAL_FAILURE(run_undisturbed());
  ASSERT_NO_FATAL_FAILURE(write_previous());
  // The first run is held at the middle of its points until `release` exists.
  const fs::path release = dir / "release";
  const std::vector<std::string> env =
      environment({fmt::format("DEFT_FAULT_PAUSE_AT={}", points.size() / 2 + 1),
                   "DEFT_FAULT_PAUSE_FILE=" + release.string()});
  const pid_t first = testing::start_process(deft_argv(GetParam().args), &env, dir.path());
  const fs::path paused = release.string() + ".paused";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(paused) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(fs::exists(paused)) << "the first run never reached its pause point";

  const auto second = deft(GetParam().args);
  testing::write_text_file(release, "");
  int status = 0;
  ::waitpid(first, &status, 0);
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_THAT(second.err, HasSubstr(fmt::format(
                              "is being written by another deft run already (pid {})", first)));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the first run failed";
  EXPECT_EQ(differences(meanings(out()), reference), "");
  EXPECT_THAT(debris_under(out()), ::testing::IsEmpty());
}

std::vector<Stage> stages() {
  const std::vector<std::string> run = {"run",
                                        "-e",
                                        "embedding_spec.yaml",
                                        "-m",
                                        "mining_spec.yaml",
                                        "target_parquet=targets.csv",
                                        "source_parquet=pool.csv",
                                        "output_dir=out"};
  std::vector<std::string> run_previous = run;
  run_previous.push_back("mining.topn=2");
  std::vector<std::string> unique = run;
  unique[4] = "unique_spec.yaml";
  unique.push_back("mode=unique_neighbor_matching");
  std::vector<std::string> unique_previous = unique;
  unique_previous.push_back("mining.desired_unique_count=4");
  return {
      {"mine",
       {"mine", "source_parquet=pool.parquet", "target_parquet=targets.parquet",
        "output_parquet=out/mined.parquet", "topn=3", "memory_budget_mb=1"},
       {"mine", "source_parquet=pool.parquet", "target_parquet=targets.parquet",
        "output_parquet=out/mined.parquet", "topn=2"},
       "out",
       false,
       {}},
      {"select",
       {"select", "source_path=pool.parquet", "target_path=targets.parquet", "output_dir=out",
        "desired_unique_count=40"},
       {"select", "source_path=pool.parquet", "target_path=targets.parquet", "output_dir=out",
        "desired_unique_count=20"},
       "out",
       false,
       {}},
      {"embed",
       {"embed", "-e", "embedding_spec.yaml", "input_parquet=pool.csv",
        "output_parquet=out/pool_embeddings.parquet"},
       {"embed", "-e", "embedding_spec.yaml", "input_parquet=targets.csv",
        "output_parquet=out/pool_embeddings.parquet"},
       "out",
       false,
       {}},
      {"run", run, run_previous, "out", true, {"Mining_Report.md", "report.html"}},
      {"run_unique", unique, unique_previous, "out", true, {"Mining_Report.md", "report.html"}},
  };
}

INSTANTIATE_TEST_SUITE_P(EveryStage, Faults, ::testing::ValuesIn(stages()),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace deft
