#include "report_test_set.h"

#include <fmt/format.h>

#include "image_writer.h"

namespace deft::testing {

namespace fs = std::filesystem;

namespace {

const char* const kLabels[] = {"crack", "dent", "rust"};

void write_scratch_like(const fs::path& path) {
  write_image(path, 30, 20, 3, /*seed=*/1000);  // the same seed and size: the same pixels
}

}  // namespace

void write_report_set(const fs::path& dir, int labelled_targets) {
  fs::create_directories(dir / "images");
  std::string targets = "filepath,label\n";
  for (int i = 0; i < labelled_targets; ++i) {
    if (i == kMissingTargetRow) targets += "images/missing.png,crack\n";
    const std::string name = fmt::format("images/t{:03}.png", i);
    write_image(dir / name, 24 + i % 5, 18 + i % 3, 3, static_cast<unsigned>(i));
    targets += name + "," + kLabels[i % 3] + "\n";
  }
  write_scratch_like(dir / "images/scratch.png");
  targets += "images/scratch.png,scratch\n";

  std::string pool = "filepath,label\n";
  for (int i = 0; i < 30; ++i) {
    const std::string name = fmt::format("images/p{:02}.png", i);
    write_image(dir / name, 26 + i % 4, 20 + i % 3, 3, static_cast<unsigned>(500 + i));
    pool += name + "," + kLabels[i % 3] + "\n";
  }
  for (int i = 0; i < 4; ++i) {
    const std::string name = fmt::format("images/copy{}.png", i);
    write_scratch_like(dir / name);
    pool += name + ",crack\n";
  }
  for (int i = 0; i < 2; ++i) {
    const std::string name = fmt::format("images/s{}.png", i);
    write_image(dir / name, 40, 12, 3, static_cast<unsigned>(2000 + i));
    pool += name + ",scratch\n";
  }
  write_text_file(dir / "images/corrupt.png", "not an image at all");
  pool += "images/corrupt.png,rust\n";  // row kCorruptPoolRow
  write_image(dir / kOddPoolName, 28, 21, 3, 3000);
  pool += fmt::format("\"{}\",dent\n", kOddPoolName);

  write_text_file(dir / "targets.csv", targets);
  write_text_file(dir / "pool.csv", pool);
  write_text_file(dir / "embedding_spec.yaml", "model: thumbnail\nbatch_size: 16\n");
  write_text_file(dir / "mining_spec.yaml", "topn: 4\nfilter_by_label: \"true\"\n");
}

ProcessResult run_report_set(const fs::path& dir, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"run",
                                   "-e",
                                   (dir / "embedding_spec.yaml").string(),
                                   "-m",
                                   (dir / "mining_spec.yaml").string(),
                                   "target_parquet=" + (dir / "targets.csv").string(),
                                   "source_parquet=" + (dir / "pool.csv").string(),
                                   "output_dir=" + (dir / "out").string(),
                                   "run_dir=" + (dir / "run").string(),
                                   "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_deft_binary(args);
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

::testing::AssertionResult contains(const std::string& text, const std::string& what) {
  if (text.find(what) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "not in the page: " << what;
}

}  // namespace deft::testing
