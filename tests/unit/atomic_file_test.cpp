#include "common/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/output_set.h"
#include "test_support.h"

namespace deft {
namespace {

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

}  // namespace
}  // namespace deft
