// What the reference writes, deft reads; what the reference's users read, deft writes
// (../shared/specs/tao-compat.md). Inputs are written by DuckDB SQL the way the reference's
// pandas writes them (`embedding` a LIST<DOUBLE>, no key-value metadata), and the expectations
// are worked out by hand in the comments.
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
using testing::sql_exec;
using testing::sql_rows;

// `rows` as SQL VALUES (filepath, label, embedding), written as `type` embeddings.
void write_parquet(table::Database& db, const fs::path& path, const std::string& rows,
                   const std::string& label_type, const std::string& embedding_type,
                   const std::string& kv = "") {
  sql_exec(db, "COPY (SELECT filepath, label::" + label_type + " AS label, embedding::" +
                   embedding_type + " AS embedding FROM (VALUES " + rows +
                   ") v(filepath, label, embedding)) TO " + quoted(path) + " (FORMAT parquet" +
                   (kv.empty() ? "" : ", KV_METADATA {'deft.encoder': '" + kv + "'}") + ")");
}

// Two targets and six pool images on a line (euclidean distances by hand):
//   t0 (0,0) label 'a'    t1 (10,0) label 'b'
//   p0 (1,0) a  p1 (0,2) b  p2 (9,0) b  p3 (10,3) a  p4 (1,0) a  p5 (5,0) b
// t0's top 4: p0 1, p4 1, p1 2, p5 5.  t1's top 4: p2 1, p3 3, p5 5, p0 9 (p4 ties at 9; the
// earlier row wins).
const char* kTargets = "('t0.jpg', 'a', [0.0, 0.0]), ('t1.jpg', 'b', [10.0, 0.0])";
const char* kPool =
    "('p0.jpg', 'a', [1.0, 0.0]), ('p1.jpg', 'b', [0.0, 2.0]), ('p2.jpg', 'b', [9.0, 0.0]), "
    "('p3.jpg', 'a', [10.0, 3.0]), ('p4.jpg', 'a', [1.0, 0.0]), ('p5.jpg', 'b', [5.0, 0.0])";

struct TmmRun {
  testing::ScratchDir dir;
  table::Database db;
  testing::ProcessResult tmm(std::vector<std::string> extra) {
    std::vector<std::string> args = {"tmm",
                                     "nearest_neighbors",
                                     "source_parquet=pool.parquet",
                                     "target_parquet=targets.parquet",
                                     "output_parquet=out/mined.parquet",
                                     "knn_metric=euclidean"};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_deft_binary(args, dir.path());
  }
  std::string summary() { return testing::read_text_file(dir / "out/mining_summary.txt"); }
  std::vector<std::vector<std::string>> mined() {
    return sql_rows(db, "SELECT * FROM " + quoted(dir / "out/mined.parquet"));
  }
};

TEST(TaoCompat, TheSummaryOpensWithTheReferencesLinesByteForByte) {
  TmmRun run;
  write_parquet(run.db, run.dir / "targets.parquet", kTargets, "VARCHAR", "DOUBLE[]");
  write_parquet(run.db, run.dir / "pool.parquet", kPool, "VARCHAR", "DOUBLE[]");
  const auto r = run.tmm({"topn=4", "filter_by_label=true", "distance_threshold=4.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Labels: t0 keeps p0, p4 and drops p1, p5; t1 keeps p2, p5 and drops p3, p0: 4/8 kept.
  // Threshold 4.5: t1's p5 (5) goes: 3/4 kept. No duplicates among p0, p4, p2.
  const std::string expected =
      "Summary:\n"
      "  Target queries: 2\n"
      "  Similar items per query: 4\n"
      "  Total pairs: 8\n"
      "  After label mismatch filtering: kept 4/8 pairs, dropped 4 mismatches\n"
      "  After distance filtering: kept 3/4 pairs, dropped 1 exceeding threshold 4.5000\n"
      "  Total candidates: 3\n"
      "  Duplicates removed: 0\n"
      "  Unique items saved: 3\n"
      "  Results saved to: out/mined.parquet\n"
      "\n";
  EXPECT_EQ(run.summary().substr(0, expected.size()), expected);
  EXPECT_EQ(run.mined(),
            (std::vector<std::vector<std::string>>{{"p0.jpg"}, {"p4.jpg"}, {"p2.jpg"}}));
}

TEST(TaoCompat, TmmWritesOnlyFilepathInWalkOrderKeepingTheFirstOccurrence) {
  TmmRun run;
  write_parquet(run.db, run.dir / "targets.parquet", kTargets, "VARCHAR", "DOUBLE[]");
  write_parquet(run.db, run.dir / "pool.parquet", kPool, "VARCHAR", "DOUBLE[]");
  const auto r = run.tmm({"topn=4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Walk: t0 → p0 p4 p1 p5, t1 → p2 p3 p5 p0; p5 and p0 again are later duplicates.
  EXPECT_EQ(sql_rows(run.db, "SELECT column_name FROM (DESCRIBE SELECT * FROM " +
                                 quoted(run.dir / "out/mined.parquet") + ")"),
            (std::vector<std::vector<std::string>>{{"filepath"}}));
  EXPECT_EQ(run.mined(),
            (std::vector<std::vector<std::string>>{
                {"p0.jpg"}, {"p4.jpg"}, {"p1.jpg"}, {"p5.jpg"}, {"p2.jpg"}, {"p3.jpg"}}));
  EXPECT_THAT(run.summary(), HasSubstr("  Duplicates removed: 2\n  Unique items saved: 6\n"));
  EXPECT_TRUE(fs::exists(run.dir / "out/mined.parquet.pairs.parquet"));
}

TEST(TaoCompat, ReferenceParquetsMineLikeFingerprintedFloatOnesWithTheUnknownEncoderWarning) {
  TmmRun run;
  write_parquet(run.db, run.dir / "targets.parquet", kTargets, "VARCHAR", "DOUBLE[]");
  write_parquet(run.db, run.dir / "pool.parquet", kPool, "VARCHAR", "DOUBLE[]");
  auto r = run.tmm({"topn=3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto from_reference = run.mined();
  EXPECT_THAT(r.err, HasSubstr("no encoder fingerprint (deft.encoder) in either file"));
  EXPECT_THAT(run.summary(), HasSubstr("encoder_check: not checked: no encoder fingerprint "
                                       "(deft.encoder) in either file"));

  // The same vectors as FLOAT[2] arrays and as FLOAT[] lists with one fingerprint.
  const std::string fingerprint =
      R"({"compute_dtype":"fp32","deft_version":"x","embedding_dim":2,"family":"SigLIP",)"
      R"("input_size":[224,224],"model_id":"m","normalized":false,"preprocessing":"p",)"
      R"("revision":"","weights_digest":"xxh3-128:00"})";
  write_parquet(run.db, run.dir / "targets.parquet", kTargets, "VARCHAR", "FLOAT[2]", fingerprint);
  write_parquet(run.db, run.dir / "pool.parquet", kPool, "VARCHAR", "FLOAT[]", fingerprint);
  r = run.tmm({"topn=3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run.mined(), from_reference);
  EXPECT_THAT(run.summary(), HasSubstr("encoder_check: same encoder"));

  // One side known, the other not: the warning names the unknown one.
  write_parquet(run.db, run.dir / "pool.parquet", kPool, "VARCHAR", "DOUBLE[]");
  r = run.tmm({"topn=3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run.mined(), from_reference);
  EXPECT_THAT(r.err, HasSubstr("no encoder fingerprint (deft.encoder) in 'pool.parquet'"));
}

TEST(TaoCompat, LabelsCompareAsTheReferencesTrimmedUpperCaseText) {
  TmmRun run;
  // Integer target labels against text pool labels (as a CSV pool carries them), with spaces
  // and case: 1 = ' 1' = '1 '; 'pass ' = 'PASS'; NULL = NULL = 'none' (all "NONE").
  write_parquet(run.db, run.dir / "targets.parquet",
                "('t0.jpg', '1', [0.0, 0.0]), ('t1.jpg', NULL, [10.0, 0.0])", "INTEGER",
                "DOUBLE[]");
  write_parquet(run.db, run.dir / "pool.parquet",
                "('p0.jpg', ' 1', [1.0, 0.0]), ('p1.jpg', '2', [0.0, 2.0]), "
                "('p2.jpg', NULL, [9.0, 0.0]), ('p3.jpg', 'None ', [10.0, 3.0]), "
                "('p4.jpg', '1 ', [1.0, 0.0]), ('p5.jpg', 'x', [5.0, 0.0])",
                "VARCHAR", "DOUBLE[]");
  auto r = run.tmm({"topn=4", "filter_by_label=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // t0 (1): p0 ' 1' kept, p4 '1 ' kept, p1 '2' dropped, p5 'x' dropped.
  // t1 (NULL = NONE): p2 NULL kept, p3 'None ' kept, p5 dropped, p0 dropped.
  EXPECT_EQ(run.mined(), (std::vector<std::vector<std::string>>{
                             {"p0.jpg"}, {"p4.jpg"}, {"p2.jpg"}, {"p3.jpg"}}));
  EXPECT_THAT(run.summary(),
              HasSubstr("After label mismatch filtering: kept 4/8 pairs, dropped 4"));
  EXPECT_THAT(run.summary(), HasSubstr("\nnull_label_pairs: 4\n"));  // t1's four pairs

  // 'pass ' equals 'PASS'.
  write_parquet(run.db, run.dir / "targets.parquet", "('t0.jpg', 'pass ', [0.0, 0.0])", "VARCHAR",
                "DOUBLE[]");
  write_parquet(run.db, run.dir / "pool.parquet",
                "('p0.jpg', 'PASS', [1.0, 0.0]), ('p1.jpg', 'fail', [0.0, 2.0])", "VARCHAR",
                "DOUBLE[]");
  r = run.tmm({"topn=2", "filter_by_label=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run.mined(), (std::vector<std::vector<std::string>>{{"p0.jpg"}}));

  // label_compare=typed: integers never equal text (refused), as before.
  write_parquet(run.db, run.dir / "targets.parquet", "('t0.jpg', '1', [0.0, 0.0])", "INTEGER",
                "DOUBLE[]");
  r = run.tmm({"topn=2", "filter_by_label=true", "label_compare=typed"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("they would never be equal"));
}

TEST(TaoCompat, ThresholdWarningsAreLoggedAndInTheSummary) {
  TmmRun run;
  write_parquet(run.db, run.dir / "targets.parquet", kTargets, "VARCHAR", "DOUBLE[]");
  write_parquet(run.db, run.dir / "pool.parquet", kPool, "VARCHAR", "DOUBLE[]");
  // Cosine needs a direction: targets off the origin for this one.
  write_parquet(run.db, run.dir / "targets.parquet",
                "('t0.jpg', 'a', [1.0, 1.0]), ('t1.jpg', 'b', [10.0, 1.0])", "VARCHAR", "DOUBLE[]");
  auto r = run.tmm({"topn=2", "knn_metric=cosine", "distance_threshold=2.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("distance_threshold 2.5 has no effect with cosine distance"));
  EXPECT_THAT(run.summary(), HasSubstr("warnings: distance_threshold 2.5 has no effect"));
  write_parquet(run.db, run.dir / "targets.parquet", kTargets, "VARCHAR", "DOUBLE[]");
  r = run.tmm({"topn=2", "distance_threshold=-0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("distance_threshold -0.5 is negative: the distance filter is "
                               "disabled (use -1.0 to say so)"));
  EXPECT_THAT(run.summary(), ::testing::Not(HasSubstr("After distance filtering")));
  EXPECT_THAT(run.summary(), HasSubstr("  Total candidates: 4\n"));
  // Equal distance is kept: t0's p0 and p4 and t1's p2 are at exactly 1; t1's p3 (3) goes.
  r = run.tmm({"topn=2", "distance_threshold=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(run.summary(), HasSubstr("After distance filtering: kept 3/4 pairs, dropped 1 "
                                       "exceeding threshold 1.0000"));
  EXPECT_EQ(run.mined(),
            (std::vector<std::vector<std::string>>{{"p0.jpg"}, {"p4.jpg"}, {"p2.jpg"}}));
}

// A table may be a folder of parquet files, read in sorted name order as one table: the pool
// split into three files (named so that name order is row order) mines to the same outputs,
// pool rows counted across the folder; a file with other columns is an error naming it.
TEST(TaoCompat, AFolderOfParquetFilesIsOneTable) {
  TmmRun run;
  write_parquet(run.db, run.dir / "targets.parquet", kTargets, "VARCHAR", "DOUBLE[]");
  write_parquet(run.db, run.dir / "pool.parquet", kPool, "VARCHAR", "DOUBLE[]");
  auto r = run.tmm({"topn=4", "provenance=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto single = run.mined();
  const auto single_pairs =
      sql_rows(run.db, "SELECT * FROM " + quoted(run.dir / "out/mined.parquet.pairs.parquet"));

  fs::create_directories(run.dir / "pool_parts");
  write_parquet(run.db, run.dir / "pool_parts/part-2.parquet",
                "('p4.jpg', 'a', [1.0, 0.0]), ('p5.jpg', 'b', [5.0, 0.0])", "VARCHAR", "DOUBLE[]");
  write_parquet(run.db, run.dir / "pool_parts/part-0.parquet",
                "('p0.jpg', 'a', [1.0, 0.0]), ('p1.jpg', 'b', [0.0, 2.0])", "VARCHAR", "DOUBLE[]");
  write_parquet(run.db, run.dir / "pool_parts/part-1.parquet",
                "('p2.jpg', 'b', [9.0, 0.0]), ('p3.jpg', 'a', [10.0, 3.0])", "VARCHAR", "DOUBLE[]");
  testing::write_text_file(run.dir / "pool_parts/notes.txt", "not a table part");
  r = run.tmm({"topn=4", "provenance=true", "source_parquet=pool_parts"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run.mined(), single);
  EXPECT_EQ(
      sql_rows(run.db, "SELECT * FROM " + quoted(run.dir / "out/mined.parquet.pairs.parquet")),
      single_pairs);
  EXPECT_THAT(run.summary(), HasSubstr("\npool_size: 6\n"));

  sql_exec(run.db,
           "COPY (SELECT 'p6.jpg' AS filepath, 'a' AS label, [1.0, 1.0]::DOUBLE[] AS "
           "embedding, 7 AS extra) TO " +
               quoted(run.dir / "pool_parts/part-3.parquet") + " (FORMAT parquet)");
  r = run.tmm({"topn=4", "source_parquet=pool_parts"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("table folder 'pool_parts': 'part-3.parquet' has the columns"));
  EXPECT_THAT(r.err, HasSubstr("but its first file 'part-0.parquet' has"));

  fs::create_directories(run.dir / "empty");
  r = run.tmm({"source_parquet=empty"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("table folder 'empty' has no .parquet files"));
}

// `embedding image_embeddings` reads a folder of parquet files as one table too; relative
// paths resolve against the folder.
TEST(TaoCompat, EmbeddingATableFolderEqualsEmbeddingTheWholeTable) {
  TmmRun run;
  fs::create_directories(run.dir / "parts");
  std::string all;
  for (int i = 0; i < 5; ++i) {
    testing::write_image(run.dir / fmt::format("parts/img{}.png", i), 40 + i, 30, 3, 11 + i);
    all += fmt::format("{}('img{}.png', {})", all.empty() ? "" : ", ", i, i);
  }
  const auto write = [&](const fs::path& path, const std::string& rows) {
    sql_exec(run.db, "COPY (SELECT * FROM (VALUES " + rows + ") v(filepath, id)) TO " +
                         quoted(path) + " (FORMAT parquet)");
  };
  write(run.dir / "parts/whole.parquet.all", all);  // not a .parquet file: not part of the folder
  fs::rename(run.dir / "parts/whole.parquet.all", run.dir / "whole_source.parquet");
  write(run.dir / "parts/a.parquet", "('img0.png', 0), ('img1.png', 1), ('img2.png', 2)");
  write(run.dir / "parts/b.parquet", "('img3.png', 3), ('img4.png', 4)");
  const auto embed = [&](const std::string& input, const std::string& output,
                         const std::string& root) {
    std::vector<std::string> args = {
        "embedding",       "image_embeddings", "input_parquet=" + input, "output_parquet=" + output,
        "model=thumbnail", "--quiet"};
    if (!root.empty()) args.push_back("image_root=" + root);
    const auto r = testing::run_deft_binary(args, run.dir.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
  };
  embed("parts", "from_folder.parquet", "");
  embed("whole_source.parquet", "from_file.parquet", "parts");
  const auto rows = [&](const char* file) {
    return sql_rows(run.db, "SELECT filepath, id, embedding FROM " + quoted(run.dir / file));
  };
  EXPECT_EQ(rows("from_folder.parquet").size(), 5U);
  EXPECT_EQ(rows("from_folder.parquet"), rows("from_file.parquet"));
}

}  // namespace
}  // namespace deft
