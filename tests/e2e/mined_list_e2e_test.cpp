// The mined list as a user takes it to the next step (issue 14, items 5 and 6):
// - it describes itself: key-value metadata naming the tables it came from, the folder its
//   relative paths are relative to (deft.path_base), the pool's encoder and the mining spec;
//   `deft embed` of the mined list from another folder finds every image through that base;
// - rows naming one file however spelled (`a.png`, `./a.png`, `sub/../a.png`) are embedded
//   once (the later rows copy the first one's vector, or its failure; every row is kept, with
//   its own columns) and mined as one image; the log, the metadata and the summary count them.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image_writer.h"
#include "table/duckdb_handles.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::quoted;
using Rows = std::vector<std::vector<std::string>>;

// data/ holds the images and the two tables (relative paths, as users write them); the
// embeddings and the mined list go to out/, and the commands run from the scratch folder.
struct Workspace {
  testing::ScratchDir dir;
  table::Database db;

  explicit Workspace(const std::string& pool_csv) {
    fs::create_directories(dir / "data/sub");
    for (int i = 0; i < 6; ++i) {
      testing::write_image(dir / fmt::format("data/p{}.png", i), 40, 30, 3,
                           static_cast<unsigned>(i + 1));
    }
    testing::write_text_file(dir / "data/targets.csv", "filepath\np0.png\np3.png\n");
    testing::write_text_file(dir / "data/pool.csv", pool_csv);
    embed("data/targets.csv", "out/targets.parquet");
    embed("data/pool.csv", "out/pool.parquet");
  }
  void embed(const std::string& input, const std::string& output, const fs::path& cwd = {}) {
    const auto r =
        testing::run_deft_binary({"embed", "input_parquet=" + input, "output_parquet=" + output,
                                  "model=thumbnail", "--quiet"},
                                 cwd.empty() ? dir.path() : cwd);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  testing::ProcessResult mine(std::vector<std::string> extra) {
    std::vector<std::string> args = {"mine", "source_parquet=out/pool.parquet",
                                     "target_parquet=out/targets.parquet",
                                     "output_parquet=out/mined.parquet", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_deft_binary(args, dir.path());
  }
  std::string metadata(const std::string& key) {
    const Rows rows =
        testing::sql_rows(db, fmt::format("SELECT decode(value) FROM parquet_kv_metadata({}) WHERE "
                                          "decode(key) = '{}'",
                                          quoted(dir / "out/mined.parquet"), key));
    return rows.empty() ? "<absent>" : rows[0][0];
  }
};

TEST(MinedList, RecordsWhereItCameFromAndIsEmbeddableFromAnotherFolder) {
  Workspace w("filepath\np0.png\np1.png\np2.png\np3.png\np4.png\np5.png\n");
  auto r = w.mine({"topn=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path data = fs::canonical(w.dir / "data");
  const fs::path out = fs::canonical(w.dir / "out");
  EXPECT_EQ(w.metadata("deft.path_base"), data.string());
  EXPECT_EQ(w.metadata("deft.source"), (out / "pool.parquet").string());
  EXPECT_EQ(w.metadata("deft.target"), (out / "targets.parquet").string());
  EXPECT_THAT(w.metadata("deft.source_encoder"), HasSubstr("\"family\":\"thumbnail\""));
  EXPECT_THAT(w.metadata("deft.mining_spec"), HasSubstr("topn: 2"));
  EXPECT_THAT(w.metadata("deft.mining_spec"), HasSubstr("knn_metric: cosine"));
  // The filepath values stay as the pool wrote them.
  EXPECT_EQ(testing::sql_rows(w.db, "SELECT filepath FROM " + quoted(w.dir / "out/mined.parquet") +
                                        " WHERE filepath = 'p0.png'"),
            (Rows{{"p0.png"}}));

  // Embedded from another folder: every relative path resolves through deft.path_base.
  fs::create_directories(w.dir / "elsewhere");
  w.embed((out / "mined.parquet").string(), "again.parquet", w.dir / "elsewhere");
  EXPECT_EQ(
      testing::sql_rows(w.db, "SELECT count(*) FROM " + quoted(w.dir / "elsewhere/again.parquet")),
      (Rows{{"4"}}));
  EXPECT_FALSE(fs::exists(w.dir / "elsewhere/again.parquet.failed.parquet"));

  // absolute_paths=true: the values themselves are absolute.
  r = w.mine({"topn=2", "absolute_paths=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::sql_rows(w.db, "SELECT count(*) FROM " + quoted(w.dir / "out/mined.parquet") +
                                        " WHERE filepath = " + quoted(data / "p0.png")),
            (Rows{{"1"}}));
}

TEST(MinedList, RowsNamingOneFileAreMinedOnce) {
  // p1 three times (three spellings), p0 twice; the targets are p0 and p3.
  Workspace w(
      "filepath\np0.png\np1.png\n./p1.png\nsub/../p1.png\n./p0.png\np2.png\np3.png\np4.png\n"
      "p5.png\n");
  const auto r = w.mine({"topn=8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Every one of the 8 neighbours of each target is kept: 16 pairs, 6 files.
  EXPECT_EQ(testing::sql_rows(w.db, "SELECT count(*), count(DISTINCT filepath) FROM " +
                                        quoted(w.dir / "out/mined.parquet")),
            (Rows{{"6", "6"}}));
  // One row per file: the first row naming it, and target_hits counts targets, not rows.
  EXPECT_EQ(testing::sql_rows(w.db, "SELECT filepath, target_hits FROM " +
                                        quoted(w.dir / "out/mined.parquet") +
                                        " WHERE filepath IN ('p0.png', 'p1.png') ORDER BY 1"),
            (Rows{{"p0.png", "2"}, {"p1.png", "2"}}));
  const std::string summary = testing::read_text_file(w.dir / "out/mining_summary.txt");
  EXPECT_THAT(summary, HasSubstr("same_file_rows: 3\n"));
  EXPECT_THAT(summary, HasSubstr("unique_mined: 6\n"));
  EXPECT_THAT(summary, HasSubstr("  Duplicates removed: 10\n"));
}

TEST(MinedList, RowsNamingOneFileAreEmbeddedOnceAndKeepTheirOwnColumns) {
  Workspace w("filepath\np0.png\n");
  // Across chunks of 2 rows: p1 three times, p2 twice, a missing file twice.
  testing::write_text_file(w.dir / "data/dup.csv",
                           "filepath,label\np1.png,a\n./p1.png,b\np2.png,c\nmissing.png,d\n"
                           "sub/../p2.png,e\n./missing.png,f\np1.png,g\n");
  testing::write_text_file(w.dir / "data/once.csv", "filepath\np1.png\np2.png\n");
  const auto embed = [&](const std::string& input, const std::string& output,
                         const std::vector<std::string>* env) {
    return testing::run_process(
        {DEFT_BINARY, "embed", "input_parquet=data/" + input, "output_parquet=out/" + output,
         "model=thumbnail", "chunk_rows=2", "max_failure_rate=1"},
        env, w.dir.path());
  };
  auto r = embed("dup.csv", "dup.parquet", nullptr);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("4 rows name a file an earlier row names"));
  EXPECT_THAT(r.err, HasSubstr("2 embedded, 0 reused, 3 copied from a row naming the same file, "
                               "2 failed"));
  ASSERT_EQ(embed("once.csv", "once.parquet", nullptr).exit_code, 0);
  const std::string dup = quoted(w.dir / "out/dup.parquet");
  const std::string once = quoted(w.dir / "out/once.parquet");
  // Every row that names an image is there with its own label, and its vector is the one the
  // file gets embedded on its own.
  EXPECT_EQ(testing::sql_rows(w.db, "SELECT d.label, o.filepath, d.embedding = o.embedding FROM " +
                                        dup + " d JOIN " + once +
                                        " o ON regexp_extract(d.filepath, 'p[0-9]') = "
                                        "regexp_extract(o.filepath, 'p[0-9]') ORDER BY d.label"),
            (Rows{{"a", "p1.png", "true"},
                  {"b", "p1.png", "true"},
                  {"c", "p2.png", "true"},
                  {"e", "p2.png", "true"},
                  {"g", "p1.png", "true"}}));
  EXPECT_EQ(testing::sql_rows(w.db, "SELECT input_row, reason FROM " +
                                        quoted(w.dir / "out/dup.parquet.failed.parquet")),
            (Rows{{"3", fmt::format("no such file: '{0}/missing.png' (relative to '{0}'; set "
                                    "image_root if the images are elsewhere)",
                                    fs::canonical(w.dir / "data").string())},
                  {"5", fmt::format("the same file as input row 3, which failed: no such file: "
                                    "'{0}/missing.png' (relative to '{0}'; set image_root if "
                                    "the images are elsewhere)",
                                    fs::canonical(w.dir / "data").string())}}));
  EXPECT_EQ(testing::sql_rows(w.db, "SELECT decode(value) FROM parquet_kv_metadata(" + dup +
                                        ") WHERE decode(key) IN ('deft.embedded', "
                                        "'deft.same_file_rows') ORDER BY decode(key)"),
            (Rows{{"2"}, {"3"}}));

  // Killed after two chunks and resumed: the rows whose first row was embedded before the kill
  // are embedded again (their result is not in memory any more), to the same vectors.
  const std::vector<std::string> kill = {"DEFT_FAULT_KILL_AFTER_CHUNKS=2"};
  ASSERT_EQ(embed("dup.csv", "resumed.parquet", &kill).exit_code, 128 + 9);
  r = embed("dup.csv", "resumed.parquet", nullptr);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("resuming: 2 of 4 chunks"));
  EXPECT_EQ(testing::sql_rows(w.db, "SELECT * FROM " + quoted(w.dir / "out/resumed.parquet")),
            testing::sql_rows(w.db, "SELECT * FROM " + dup));
}

}  // namespace
}  // namespace deft
