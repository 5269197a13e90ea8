// Outputs never destroy inputs (issue 14, item 1): an output that is one of the command's
// inputs — the same file however spelled, or a file inside an input table folder — is refused
// with exit 2 before anything is read or written, overwrite=true included; and the mined list
// never replaces an embedding parquet.
#include <chrono>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
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

struct Tables {
  testing::ScratchDir dir;
  table::Database db;
  Tables() {
    for (const char* name : {"targets", "pool", "other_embeddings"}) {
      testing::sql_exec(
          db,
          std::string(
              "COPY (SELECT filepath, e::DOUBLE[] AS embedding FROM (VALUES ('a.jpg', [1.0, 0.0]), "
              "('b.jpg', [0.0, 1.0])) v(filepath, e)) TO ") +
              quoted(dir / (std::string(name) + ".parquet")) + " (FORMAT parquet)");
    }
  }
  testing::ProcessResult mine(const std::string& output) {
    return testing::run_deft_binary(
        {"tmm", "nearest_neighbors", "source_parquet=pool.parquet",
         "target_parquet=targets.parquet", "output_parquet=" + output, "topn=1"},
        dir.path());
  }
  std::string bytes(const char* name) { return testing::read_text_file(dir / name); }
};

TEST(OutputSafety, MiningOverAnInputIsRefusedHoweverItIsSpelled) {
  Tables t;
  const std::string targets = t.bytes("targets.parquet");
  const std::string pool = t.bytes("pool.parquet");
  fs::create_directories(t.dir / "sub");
  fs::create_symlink(t.dir / "targets.parquet", t.dir / "link.parquet");
  for (const std::string& output :
       std::vector<std::string>{"targets.parquet", "./sub/../pool.parquet",
                                (t.dir / "targets.parquet").string(), "link.parquet"}) {
    const auto r = t.mine(output);
    EXPECT_EQ(r.exit_code, 2) << output;
    EXPECT_THAT(r.err, HasSubstr("output_parquet '" + output + "' would overwrite the input"))
        << output;
    EXPECT_EQ(t.bytes("targets.parquet"), targets);
    EXPECT_EQ(t.bytes("pool.parquet"), pool);
  }
  EXPECT_FALSE(fs::exists(t.dir / "mining_summary.txt"));
  EXPECT_FALSE(fs::exists(t.dir / "targets.parquet.pairs.parquet"));
}

TEST(OutputSafety, TheMinedListNeverReplacesAnEmbeddingParquet) {
  Tables t;
  const std::string other = t.bytes("other_embeddings.parquet");
  auto r = t.mine("other_embeddings.parquet");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("output_parquet 'other_embeddings.parquet' is an embedding "
                               "parquet: mining would replace it with the mined list"));
  EXPECT_EQ(t.bytes("other_embeddings.parquet"), other);
  // An earlier mined list is replaced as usual.
  r = t.mine("mined.parquet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = t.mine("mined.parquet");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(OutputSafety, EmbeddingOverItsInputIsRefusedEvenWithOverwrite) {
  testing::ScratchDir dir;
  testing::write_image(dir / "a.png", 20, 20, 3, 1);
  table::Database db;
  testing::sql_exec(db, "COPY (SELECT 'a.png' AS filepath) TO " + quoted(dir / "t.parquet") +
                            " (FORMAT parquet)");
  const std::string input = testing::read_text_file(dir / "t.parquet");
  auto r =
      testing::run_deft_binary({"embed", "input_parquet=t.parquet", "output_parquet=./t.parquet",
                                "model=thumbnail", "overwrite=true"},
                               dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("output_parquet './t.parquet' would overwrite the input "
                               "input_parquet 't.parquet'"));
  EXPECT_EQ(testing::read_text_file(dir / "t.parquet"), input);

  // Inside an input table folder, an output would be read back as one of its parts.
  fs::create_directories(dir / "parts");
  fs::rename(dir / "t.parquet", dir / "parts/t.parquet");
  r = testing::run_deft_binary({"embed", "input_parquet=parts", "output_parquet=parts/out.parquet",
                                "model=thumbnail", "image_root=."},
                               dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("would overwrite the input input_parquet 'parts'"));
  EXPECT_EQ(testing::directory_entries(dir / "parts"), std::vector<std::string>{"t.parquet"});
}

// One writer at a time (issue 14, item 3): while one `deft embed` writes an output, a second
// one on the same output fails at once naming the first's pid, and the first finishes intact.
// (A lock left by a killed run is released by the kernel: EmbedEndToEnd's kill-and-resume test
// resumes through it.)
TEST(OutputLock, ASecondEmbedOnTheSameOutputFailsAtOnceNamingTheFirst) {
  testing::ScratchDir dir;
  std::string csv = "filepath\n";
  for (int i = 0; i < 2500; ++i) {
    const std::string name = fmt::format("img{:04}.png", i);
    testing::write_image(dir / name, 160, 120, 3, static_cast<unsigned>(i));
    csv += name + "\n";
  }
  testing::write_text_file(dir / "t.csv", csv);
  const std::vector<std::string> args = {DEFT_BINARY,
                                         "embed",
                                         "input_parquet=" + (dir / "t.csv").string(),
                                         "output_parquet=" + (dir / "out.parquet").string(),
                                         "model=thumbnail",
                                         "threads=1",
                                         "--quiet"};
  const pid_t first = testing::start_process(args);
  // The first run holds the lock once its pid is in the lock file.
  const fs::path lock = dir / ".out.parquet.deft-lock";
  const std::string pid = std::to_string(first) + "\n";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((!fs::exists(lock) || testing::read_text_file(lock) != pid) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto second = testing::run_process(args);
  int status = 0;
  ::waitpid(first, &status, 0);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("is being written by another deft run already (pid " +
                                    std::to_string(first) + ")"));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  table::Database db;
  EXPECT_EQ(testing::sql_rows(db, "SELECT count(*) FROM " + quoted(dir / "out.parquet")),
            (std::vector<std::vector<std::string>>{{"2500"}}));
}

// All-or-nothing output sets (issue 14, item 2): a mine that fails on a full disk after the
// mined list is written leaves the previous mined list, pairs file and summary exactly as they
// were. The full disk is the kernel's file-size limit (ulimit -f, with SIGXFSZ ignored so that
// the write fails with EFBIG as on ENOSPC), set between the sizes of the new mined list and of
// its pairs file, which is written after it.
TEST(OutputSet, AMineThatFailsOnAFullDiskLeavesThePreviousTrio) {
  testing::ScratchDir dir;
  table::Database db;
  // 60 targets and 3000 pool rows with long paths, 16-dim vectors from a hash (any vectors do).
  const auto table_sql = [](const char* prefix, int rows) {
    return fmt::format(
        "SELECT '{0}/' || repeat('long_folder_name_', 4) || i || '.jpg' AS filepath, "
        "list_transform(range(16), j -> ((hash(i * 16 + j + {1}) % 1000)::DOUBLE / 1000)) AS "
        "embedding FROM range({1}) t(i)",
        prefix, rows);
  };
  testing::sql_exec(db, "COPY (" + table_sql("targets", 60) + ") TO " +
                            quoted(dir / "targets.parquet") + " (FORMAT parquet)");
  testing::sql_exec(db, "COPY (" + table_sql("pool", 3000) + ") TO " +
                            quoted(dir / "pool.parquet") + " (FORMAT parquet)");
  const auto mine = [&](const std::string& out_dir, int topn, long limit_kib) {
    fs::create_directories(dir / out_dir);
    std::string command = fmt::format(
        "trap '' XFSZ; {} exec {} mine source_parquet=pool.parquet target_parquet=targets.parquet "
        "output_parquet={}/mined.parquet topn={} --quiet",
        limit_kib > 0 ? fmt::format("ulimit -f {};", limit_kib) : "", DEFT_BINARY, out_dir, topn);
    return testing::run_process({"/bin/bash", "-c", command}, nullptr, dir.path());
  };
  // The sizes of the new outputs, measured in a scratch folder.
  ASSERT_EQ(mine("measure", 40, 0).exit_code, 0);
  const auto mined_size = fs::file_size(dir / "measure/mined.parquet");
  const auto pairs_size = fs::file_size(dir / "measure/mined.parquet.pairs.parquet");
  ASSERT_GT(pairs_size, mined_size + 8192) << "the limit must fall between the two";

  auto r = mine("out", 2, 0);  // the previous trio
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> names = {"mined.parquet", "mined.parquet.pairs.parquet",
                                          "mining_summary.txt"};
  std::vector<std::string> before;
  for (const auto& n : names)
    before.push_back(testing::read_text_file(dir / "out" / n));

  r = mine("out", 40, static_cast<long>((mined_size + pairs_size) / 2 / 1024));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("mined.parquet.pairs.parquet"));
  for (size_t i = 0; i < names.size(); ++i)
    EXPECT_EQ(testing::read_text_file(dir / "out" / names[i]), before[i]) << names[i];
  EXPECT_EQ(testing::directory_entries(dir / "out"),
            (std::vector<std::string>{"mined.parquet", "mined.parquet.pairs.parquet",
                                      "mining_summary.txt"}));
}

}  // namespace
}  // namespace deft
