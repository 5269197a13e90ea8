#include "common/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
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

}  // namespace
}  // namespace deft
