// The deft binary as users run it: exit codes, one-line errors, the demo, the rpath.
#include <algorithm>
#include <regex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::run_process;
using testing::ScratchDir;
using ::testing::StartsWith;
using testing::write_text_file;

testing::ProcessResult deft(std::vector<std::string> args, const fs::path& cwd = {}) {
  return testing::run_deft_binary(std::move(args), cwd);
}

size_t line_count(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(CliEndToEnd, CfgJobAndTheThreeUsageErrorsWithTheirExitCodes) {
  ScratchDir dir;
  write_text_file(dir / "spec.yaml", "model: SigLIP\nbatch_size: 64\n");
  const std::string spec = (dir / "spec.yaml").string();

  auto r =
      deft({"embedding", "image_embeddings", "-e", spec, "--cfg=job", "input_parquet=a.parquet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "input_parquet: a.parquet\noutput_parquet: ???\nmodel: SigLIP\n"
            "model_path: google/siglip-base-patch16-224\nmodel_config_path: ''\nbatch_size: 64\n"
            // The TAO form: deft's own keys after the reference's, marked.
            "image_root: null  # deft only\nthreads: 0  # deft only\n"
            "precision: auto  # deft only\nstrict: false  # deft only\n"
            "overwrite: false  # deft only\nreuse: true  # deft only\n"
            "reuse_from: null  # deft only\nreuse_key: stat  # deft only\n"
            "exif_orientation: ignore  # deft only\nshrink_on_load: true  # deft only\n"
            "max_image_pixels: 178956970  # deft only\ndecode_timeout: 60.0  # deft only\n"
            "chunk_rows: 4096  # deft only\nmax_failure_rate: 0.5  # deft only\n");

  r = deft({"embedding", "image_embeddings", "-e", spec, "input_parquet=a.parquet"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("deft: error: missing required value for `embedding "
                                "image_embeddings`: output_parquet\n"));
  EXPECT_EQ(line_count(r.err), 2U);  // the error and its hint

  r = deft({"embedding", "image_embeddings", "-e", spec, "input_parquet=a.parquet", "bach_size=2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown key 'bach_size' for `embedding image_embeddings`; did you "
                               "mean 'batch_size'?"));

  r = deft({"embedding", "image_embeddings", "-e", spec, "batch_size=big"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "deft: error: override 'batch_size=big': 'batch_size' must be an integer, got "
            "'big'\n");
  EXPECT_EQ(r.out, "");
}

TEST(CliEndToEnd, AnInputWithoutFilepathIsARunFailureNamingFileAndColumns) {
  ScratchDir dir;
  write_text_file(dir / "targets.csv", "path,label\na.jpg,1\n");
  const auto r = deft({"embed", "input_parquet=" + (dir / "targets.csv").string(),
                       "output_parquet=" + (dir / "out.parquet").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, AllOf(HasSubstr("targets.csv"), HasSubstr("no column 'filepath'"),
                           HasSubstr("path (VARCHAR), label (VARCHAR)")));
  EXPECT_FALSE(fs::exists(dir / "out.parquet"));
}

TEST(CliEndToEnd, RelativePathsAreTakenFromTheWorkingDirectory) {
  ScratchDir dir;
  write_text_file(dir / "targets.csv", "path\na.jpg\n");
  const auto r =
      deft({"embed", "input_parquet=targets.csv", "output_parquet=out.parquet"}, dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("table 'targets.csv' has no column 'filepath'"));
}

TEST(CliEndToEnd, DemoRunsTheWorkflowAndFindsThePlantedNeighbours) {
  ScratchDir dir;
  const fs::path out = dir / "demo";
  const auto r = deft({"demo", "--output-dir", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name :
       {"data/targets.parquet", "data/pool.csv", "embedding_spec.yaml", "mining_spec.yaml",
        "run_config.yaml", "run/Mining_Report.md", "run/mined.parquet", "run/mining_summary.txt"}) {
    EXPECT_TRUE(fs::is_regular_file(out / name)) << name;
  }
  // 24 targets in 3 classes; 240 pool images, 3 planted copies of each target among them.
  table::Database db;
  EXPECT_EQ(testing::sql_rows(db, "SELECT label, count(*) FROM " +
                                      testing::quoted(out / "data/targets.parquet") +
                                      " GROUP BY 1 ORDER BY 1"),
            (std::vector<std::vector<std::string>>{{"crack", "8"}, {"dent", "8"}, {"rust", "8"}}));
  EXPECT_EQ(testing::sql_rows(db,
                              "SELECT count(*), count(*) FILTER (WHERE filepath SIMILAR TO "
                              "'.*_(crop|flip|jpeg)\\..*') FROM read_csv(" +
                                  testing::quoted(out / "data/pool.csv") + ")"),
            (std::vector<std::vector<std::string>>{{"240", "72"}}));
  // The planted-neighbour recall it prints, at least 0.9 with the thumbnail encoder.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(recall +([0-9.]+) of the planted)")))
      << r.out;
  EXPECT_GE(std::stod(m[1]), 0.9);
  EXPECT_THAT(r.out, HasSubstr((out / "run" / "Mining_Report.md").string()));

  // The written specs, passed back to `deft run`, resolve to the recorded config.
  const auto again =
      deft({"run", "-e", (out / "embedding_spec.yaml").string(), "-m",
            (out / "mining_spec.yaml").string(),
            "target_parquet=" + (out / "data/targets.parquet").string(),
            "source_parquet=" + (out / "data/pool.csv").string(), "output_dir=" + out.string(),
            "run_dir=" + (out / "run").string(), "--cfg=job"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, testing::read_text_file(out / "run_config.yaml"));
  EXPECT_THAT(again.out, AllOf(HasSubstr("  model: thumbnail\n"), HasSubstr("  topn: 5\n"),
                               HasSubstr("  filter_by_label: \"true\"\n")));
}

TEST(CliEndToEnd, RunsWithoutLdLibraryPath) {
  const std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=/nonexistent"};
  const auto r = run_process({DEFT_BINARY, "--version"}, &env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deft 0.1.0 (DuckDB v1.4.4)\n");
}

TEST(CliEndToEnd, TheInstalledBinaryFindsItsDuckDB) {
  ScratchDir dir;
  const auto install = run_process(
      {"/usr/bin/cmake", "--install", DEFT_BUILD_DIR, "--prefix", (dir / "prefix").string()});
  ASSERT_EQ(install.exit_code, 0) << install.err;
  const std::vector<std::string> env = {"PATH=/usr/bin:/bin"};
  const auto r = run_process({(dir / "prefix/bin/deft").string(), "--version"}, &env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("deft 0.1.0"));
}

}  // namespace
}  // namespace deft
