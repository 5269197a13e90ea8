#include "common/atomic_file.h"

#include <algorithm>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "common/dead_run_debris.h"
#include "common/error.h"
#include "common/output_set.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;

TEST(AtomicFile, WritesWholeFilesAndCreatesDirectories) {
  testing::ScratchDir dir;
  const auto path = dir / "nested/deeper/summary.txt";
  write_file_atomically(path, "queries: 3\n");
  EXPECT_EQ(testing::read_text_file(path), "queries: 3\n");
  write_file_atomically(path, "queries: 4\nunique: 9\n");  // replaces the old file whole
  EXPECT_EQ(testing::read_text_file(path), "queries: 4\nunique: 9\n");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"nested"});
  write_file_atomically(dir / "empty.txt", "");
  EXPECT_EQ(testing::read_text_file(dir / "empty.txt"), "");
}

TEST(AtomicFile, ADirectoryAtTheOutputPathIsRefusedAndNothingIsLeft) {
  testing::ScratchDir dir;
  std::filesystem::create_directory(dir / "report.md");
  try {
    write_file_atomically(dir / "report.md", "text");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("report.md' is an existing directory"));
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"report.md"});
}

TEST(AtomicFile, TemporaryPathsAreHiddenUniqueAndBesideTheOutput) {
  testing::ScratchDir dir;
  const auto a = prepare_output(dir / "out.parquet");
  const auto b = prepare_output(dir / "out.parquet");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.parent_path(), dir.path());
  EXPECT_THAT(a.filename().string(), ::testing::StartsWith(".out.parquet."));
  EXPECT_THAT(a.filename().string(), ::testing::EndsWith(".deft-tmp"));
}

// Output sets (issue 14, item 2): the files of one command land together or not at all.
TEST(OutputSet, CommitsEveryFileTogetherAndRemovesTheRetiredOne) {
  testing::ScratchDir dir;
  write_file_atomically(dir / "mined.parquet", "old mined");
  write_file_atomically(dir / "stale.failed.parquet", "old sidecar");
  {
    OutputSet set;
    write_file_atomically(dir / "mined.parquet", "new mined", &set);
    write_file_atomically(dir / "mining_summary.txt", "new summary", &set);
    set.remove_on_commit(dir / "stale.failed.parquet");
    set.remove_on_commit(dir / "never_existed.parquet");
    // Nothing has moved yet: the old files are still there, the new ones are hidden.
    EXPECT_EQ(testing::read_text_file(dir / "mined.parquet"), "old mined");
    EXPECT_FALSE(std::filesystem::exists(dir / "mining_summary.txt"));
    set.commit();
  }
  EXPECT_EQ(testing::read_text_file(dir / "mined.parquet"), "new mined");
  EXPECT_EQ(testing::read_text_file(dir / "mining_summary.txt"), "new summary");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"mined.parquet", "mining_summary.txt"}));
}

TEST(OutputSet, AnUncommittedSetLeavesTheOldFilesAndNoTemporaries) {
  testing::ScratchDir dir;
  write_file_atomically(dir / "mined.parquet", "old mined");
  {
    OutputSet set;
    write_file_atomically(dir / "mined.parquet", "new mined", &set);
    write_file_atomically(dir / "pairs.parquet", "new pairs", &set);
    // A failure here (the summary could not be written): the set is dropped uncommitted.
  }
  EXPECT_EQ(testing::read_text_file(dir / "mined.parquet"), "old mined");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"mined.parquet"});
}

TEST(OutputSet, AFailedRenamePutsThePreviousFilesBack) {
  testing::ScratchDir dir;
  std::filesystem::create_directories(dir / "side");
  write_file_atomically(dir / "a.txt", "old a");
  write_file_atomically(dir / "b.txt", "old b");
  OutputSet set;
  write_file_atomically(dir / "a.txt", "new a", &set);
  write_file_atomically(dir / "b.txt", "new b", &set);
  write_file_atomically(dir / "side/c.txt", "new c", &set);
  std::filesystem::remove_all(dir / "side");  // the third rename cannot happen
  try {
    set.commit();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kRun);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("side/c.txt"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("the previous outputs are left as they were"));
  }
  EXPECT_EQ(testing::read_text_file(dir / "a.txt"), "old a");
  EXPECT_EQ(testing::read_text_file(dir / "b.txt"), "old b");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"a.txt", "b.txt"}));
}

// A pid that existed and no longer does: a child that has exited and been reaped.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

TEST(DeadRunDebris, NamesAreReadAsPrepareOutputAndOutputSetWriteThem) {
  EXPECT_EQ(debris_writer(".mined.parquet.12345-0.deft-tmp"), 12345);
  EXPECT_EQ(debris_writer(".my-file.v2.parquet.77-13.deft-tmp"), 77);
  EXPECT_EQ(debris_writer(".summary.json.deft-old-4242"), 4242);
  EXPECT_EQ(debris_writer(".run.9-0.deft-tmp"), 9);
  // The real name of a temporary from prepare_output, whatever its output is called.
  const auto temporary = prepare_output(testing::ScratchDir().path() / "a-b.c.parquet");
  EXPECT_EQ(debris_writer(temporary.filename().string()), ::getpid());
  for (const char* other : {"mined.parquet", ".mined.parquet.deft-lock", ".deft-commit-12",
                            ".x.12-a.deft-tmp", ".x.-1.deft-tmp", ".x.deft-old-", "x.1-2.deft-tmp"})
    EXPECT_EQ(debris_writer(other), 0) << other;
}

TEST(DeadRunDebris, OnlyTheFilesOfProcessesThatAreGoneAreRemoved) {
  testing::ScratchDir dir;
  const pid_t gone = dead_pid();
  const std::vector<std::string> dead = {fmt::format(".m.parquet.{}-0.deft-tmp", gone),
                                         fmt::format(".m.parquet.deft-old-{}", gone)};
  const std::vector<std::string> kept = {fmt::format(".m.parquet.{}-1.deft-tmp", ::getpid()),
                                         fmt::format(".m.parquet.deft-old-{}", ::getpid()),
                                         "m.parquet", ".m.parquet.deft-lock"};
  for (const auto& name : dead)
    testing::write_text_file(dir / name, "x");
  for (const auto& name : kept)
    testing::write_text_file(dir / name, "x");
  fs::create_directories(dir / fmt::format(".run.{}-2.deft-tmp", gone) / "inner");
  EXPECT_EQ(remove_dead_run_debris(dir.path()), 3U);
  std::vector<std::string> expected = kept;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(dir.entries(), expected);
}

// A commit killed between two renames (mined in place, summary still the old one) is finished
// from its journal by complete_interrupted_commits: the new set in place, no backup left.
TEST(OutputSet, AnInterruptedCommitIsFinishedFromItsJournal) {
  testing::ScratchDir dir;
  const pid_t gone = dead_pid();
  testing::write_text_file(dir / "mined.parquet", "new mined");
  testing::write_text_file(dir / fmt::format(".mined.parquet.deft-old-{}", gone), "old mined");
  testing::write_text_file(dir / "summary.txt", "old summary");
  const fs::path temporary = dir / fmt::format(".summary.txt.{}-1.deft-tmp", gone);
  testing::write_text_file(temporary, "new summary");
  const nlohmann::json journal = {
      {"entries",
       {{{"temporary", (dir / fmt::format(".mined.parquet.{}-0.deft-tmp", gone)).string()},
         {"output", (dir / "mined.parquet").string()},
         {"backup", (dir / fmt::format(".mined.parquet.deft-old-{}", gone)).string()}},
        {{"temporary", temporary.string()},
         {"output", (dir / "summary.txt").string()},
         {"backup", (dir / fmt::format(".summary.txt.deft-old-{}", gone)).string()}}}}};
  testing::write_text_file(dir / fmt::format(".deft-commit-{}", gone), journal.dump());
  EXPECT_EQ(OutputSet::complete_interrupted_commits(dir.path()), 1U);
  EXPECT_EQ(testing::read_text_file(dir / "mined.parquet"), "new mined");
  EXPECT_EQ(testing::read_text_file(dir / "summary.txt"), "new summary");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"mined.parquet", "summary.txt"}));
}

}  // namespace
}  // namespace deft
