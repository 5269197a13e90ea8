// `deft run` end to end on a small labelled image set: the folder layout, specs that reproduce
// the run through the step commands, mined.parquet equal to `deft mine` alone, the report's
// sections, length, figures and per-label counts (counted here independently), and the verdict
// in the documented situations.
#include <array>
#include <map>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image_writer.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::quoted;
using testing::ScratchDir;
using testing::sql_rows;

testing::ProcessResult deft(std::vector<std::string> args) {
  return testing::run_deft_binary(std::move(args));
}

const char* kLabels[] = {"crack", "dent", "rust"};

// targets.csv (6 images, 2 per label) and pool.csv (30 images, 10 per label), or without the
// pool's labels; returns filepath → label for both.
std::map<std::string, std::string> write_set(const fs::path& dir, bool pool_labels = true) {
  std::map<std::string, std::string> label_of;
  fs::create_directories(dir / "images");
  std::string targets = "filepath,label\n";
  std::string pool = pool_labels ? "filepath,label\n" : "filepath\n";
  for (int i = 0; i < 36; ++i) {
    const bool target = i < 6;
    const std::string name = fmt::format("images/{}{:02}.png", target ? "t" : "p", i);
    testing::write_image(dir / name, 40 + i % 5, 30 + i % 3, 3, static_cast<unsigned>(i % 12));
    const std::string label = kLabels[i % 3];
    label_of[name] = label;
    if (target) {
      targets += name + "," + label + "\n";
    } else {
      pool += name + (pool_labels ? "," + label : "") + "\n";
    }
  }
  testing::write_text_file(dir / "targets.csv", targets);
  testing::write_text_file(dir / "pool.csv", pool);
  testing::write_text_file(dir / "embedding_spec.yaml", "model: thumbnail\nbatch_size: 8\n");
  testing::write_text_file(dir / "mining_spec.yaml", "topn: 4\nfilter_by_label: \"true\"\n");
  return label_of;
}

testing::ProcessResult run(const fs::path& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"run",
                                   "-e",
                                   (dir / "embedding_spec.yaml").string(),
                                   "-m",
                                   (dir / "mining_spec.yaml").string(),
                                   "target_parquet=" + (dir / "targets.csv").string(),
                                   "source_parquet=" + (dir / "pool.csv").string(),
                                   "output_dir=" + (dir / "out").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return deft(args);
}

// The one dated folder under out/mining_results.
fs::path run_folder(const fs::path& dir) {
  const auto entries = testing::directory_entries(dir / "out" / "mining_results");
  EXPECT_EQ(entries.size(), 1U);
  if (entries.empty()) return {};
  EXPECT_TRUE(std::regex_match(entries[0], std::regex(R"(\d{4}-\d{2}-\d{2}_\d{6})"))) << entries[0];
  return dir / "out" / "mining_results" / entries[0];
}

std::string summary_value(const fs::path& folder, const std::string& key) {
  return testing::summary_value(folder / "mining_summary.txt", key);
}

std::vector<std::vector<std::string>> all_rows(const fs::path& parquet) {
  table::Database db;
  return sql_rows(db, "SELECT * FROM " + quoted(parquet));
}

TEST(RunEndToEnd, LayoutSpecsThatReproduceItAndMinedEqualToMineAlone) {
  ScratchDir dir;
  write_set(dir.path());
  const auto r = run(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path folder = run_folder(dir.path());
  EXPECT_THAT(r.out, HasSubstr(folder.string()));
  EXPECT_THAT(r.out, HasSubstr("OK"));
  EXPECT_EQ(
      testing::directory_entries(folder),
      (std::vector<std::string>{
          "Mining_Report.md", "embedding_spec.yaml", "mined.parquet", "mined.parquet.pairs.parquet",
          "mining_spec.yaml", "mining_summary.txt", "report.html", "run_manifest.json",
          "source_embeddings.parquet", "target_embeddings.parquet", "thumbs"}));

  // The step commands, fed the folder's specs, give the same files.
  const fs::path again = dir / "again";
  fs::create_directories(again);
  for (const auto& [table, out] :
       {std::pair{"targets.csv", "t.parquet"}, std::pair{"pool.csv", "p.parquet"}}) {
    const auto e = deft({"embed", "-e", (folder / "embedding_spec.yaml").string(),
                         "input_parquet=" + (dir / table).string(),
                         "output_parquet=" + (again / out).string(), "--quiet"});
    ASSERT_EQ(e.exit_code, 0) << e.err;
  }
  const auto m = deft({"mine", "-e", (folder / "mining_spec.yaml").string(),
                       "target_parquet=" + (again / "t.parquet").string(),
                       "source_parquet=" + (again / "p.parquet").string(),
                       "output_parquet=" + (again / "mined.parquet").string(), "--quiet"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  const auto mined = all_rows(folder / "mined.parquet");
  ASSERT_GT(mined.size(), 0U);
  EXPECT_EQ(all_rows(again / "mined.parquet"), mined);
  table::Database db;
  EXPECT_EQ(sql_rows(db, "SELECT filepath, embedding FROM " + quoted(again / "p.parquet")),
            sql_rows(db, "SELECT filepath, embedding FROM " +
                             quoted(folder / "source_embeddings.parquet")));

  // `deft mine` alone on the run's own embeddings.
  const auto alone =
      deft({"mine", "target_parquet=" + (folder / "target_embeddings.parquet").string(),
            "source_parquet=" + (folder / "source_embeddings.parquet").string(),
            "output_parquet=" + (again / "alone.parquet").string(), "topn=4",
            "filter_by_label=true", "--quiet"});
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_EQ(all_rows(again / "alone.parquet"), mined);
}

TEST(RunEndToEnd, ReportSectionsLengthFiguresAndPerLabelCounts) {
  ScratchDir dir;
  const auto label_of = write_set(dir.path());
  const auto r = run(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path folder = run_folder(dir.path());
  const std::string report = testing::read_text_file(folder / "Mining_Report.md");

  // Seven sections, in order.
  size_t at = 0;
  for (const char* heading :
       {"## Verdict\n", "## Inputs\n", "## Encoder Consistency\n", "## Mining Run\n",
        "## Per-Label Breakdown\n", "## Output Sanity\n", "## Recommended Actions\n"}) {
    const size_t found = report.find(heading, at);
    ASSERT_NE(found, std::string::npos) << heading << " missing or out of order";
    at = found + 1;
  }
  // 600–1,200 words.
  std::istringstream words(report);
  size_t count = 0;
  for (std::string w; words >> w;)
    ++count;
  EXPECT_GE(count, 600U);
  EXPECT_LE(count, 1200U);

  // Figures equal the summary's.
  EXPECT_THAT(report, HasSubstr("**OK**"));
  for (const auto& [row, key] :
       {std::pair{"neighbour pairs found", "neighbours"},
        std::pair{"dropped by the label filter", "dropped_by_label"},
        std::pair{"dropped by the distance threshold", "dropped_by_threshold"},
        std::pair{"duplicates removed (pool images kept by several targets)", "duplicates_removed"},
        std::pair{"unique images mined", "unique_mined"}}) {
    EXPECT_THAT(report, HasSubstr(fmt::format("| {} | {} |", row, summary_value(folder, key))));
  }
  EXPECT_THAT(report,
              HasSubstr("The target table `" + (dir / "targets.csv").string() + "` had 6 rows"));
  EXPECT_THAT(report,
              HasSubstr("The pool table `" + (dir / "pool.csv").string() + "` had 30 rows"));

  // The per-label table against counts made here: from the labels written, and the pairs and
  // mined files read with the test's own label map.
  std::map<std::string, std::array<int, 5>> expected;  // targets, pool, kept, dropped, mined
  for (const auto& [path, label] : label_of)
    ++expected[label][path.find("/t") != std::string::npos ? 0 : 1];
  table::Database db;
  for (const auto& row : sql_rows(db, "SELECT target_filepath, kept FROM " +
                                          quoted(folder / "mined.parquet.pairs.parquet"))) {
    ++expected[label_of.at(row[0])][row[1] == "true" ? 2 : 3];  // paths as in the tables
  }
  for (const auto& row : sql_rows(db, "SELECT filepath FROM " + quoted(folder / "mined.parquet")))
    ++expected[label_of.at(row[0])][4];
  for (const auto& [label, n] : expected) {
    // Labels are grouped as mining compares them: the reference's upper-cased text.
    std::string key = label;
    for (char& c : key)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_THAT(report, HasSubstr(fmt::format("| {} | {} | {} | {} | {} | {} |", key, n[0], n[1],
                                              n[2], n[3], n[4])));
  }
}

// report.html in headless Chromium (Debian's `chromium`, installed by scripts/setup.sh): a
// screenshot with no console messages, and the DOM's target rows and thumbnails counted.
TEST(RunEndToEnd, VisualReportRendersInHeadlessChromium) {
  const char* chromium = "/usr/bin/chromium";
  ASSERT_TRUE(fs::exists(chromium)) << "scripts/setup.sh installs Debian's chromium for this test";
  ScratchDir dir;
  write_set(dir.path());
  const auto r = run(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path folder = run_folder(dir.path());
  const std::string url = "file://" + (folder / "report.html").string();
  const std::vector<std::string> common = {
      chromium, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"};
  auto args = common;
  args.insert(args.end(),
              {"--window-size=1200,1600", "--screenshot=" + (dir / "report.png").string(), url});
  const auto shot = testing::run_process(args);
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  const std::string png = testing::read_text_file(dir / "report.png");
  ASSERT_GT(png.size(), 1000U);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_THAT(shot.err, ::testing::Not(HasSubstr("CONSOLE")));  // no page message at all

  args = common;
  args.insert(args.end(), {"--dump-dom", url});
  const auto dom = testing::run_process(args);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  const auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = dom.out.find(what); at != std::string::npos; at = dom.out.find(what, at + 1))
      ++n;
    return n;
  };
  // 6 targets, each with its 4 neighbours (kept or dropped): 6 rows, 30 thumbnails, all loaded
  // from thumbs/ (no image is unreadable here).
  EXPECT_EQ(count("<div class=\"target\">"), 6U);
  EXPECT_EQ(count("<img src=\"thumbs/"), 30U);
  EXPECT_EQ(count("class=\"missing\""), 0U);
  // One thumbnail file per target and per distinct pool image shown.
  table::Database db;
  const auto distinct = sql_rows(
      db, "SELECT count(DISTINCT pool_row) FROM " + quoted(folder / "mined.parquet.pairs.parquet"));
  EXPECT_EQ(testing::directory_entries(folder / "thumbs").size(),
            6U + std::stoul(distinct.at(0).at(0)));
}

TEST(RunEndToEnd, ASecondRunReusesThePoolEmbeddingsOfTheFirst) {
  ScratchDir dir;
  write_set(dir.path());
  ASSERT_EQ(run(dir.path(), {"run_dir=" + (dir / "out/mining_results/first").string()}).exit_code,
            0);
  const auto r = run(dir.path(), {"run_dir=" + (dir / "out/mining_results/second").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err,
              HasSubstr("reusing the pool's rows from '" +
                        (dir / "out/mining_results/first/source_embeddings.parquet").string()));
  const std::string report =
      testing::read_text_file(dir / "out/mining_results/second/Mining_Report.md");
  EXPECT_THAT(report, HasSubstr("30 rows. 0 were embedded in this run and 30 were reused"));
  EXPECT_EQ(all_rows(dir / "out/mining_results/second/mined.parquet"),
            all_rows(dir / "out/mining_results/first/mined.parquet"));
}

// The same command after a kill continues the unfinished run (issue 14, item 4): same
// folder, only the pool's remaining chunks embedded, the targets' rows reused; the result is
// the uninterrupted run's. The kill lands after the 4th finished chunk (the targets' two, then
// two of the pool's eight): DEFT_FAULT_KILL_AFTER_CHUNKS, a SIGKILL the process sends itself.
TEST(RunEndToEnd, AKilledRunIsContinuedInItsFolderByTheSameCommand) {
  ScratchDir dir;
  write_set(dir.path());
  std::vector<std::string> args = {DEFT_BINARY,
                                   "run",
                                   "-e",
                                   (dir / "embedding_spec.yaml").string(),
                                   "-m",
                                   (dir / "mining_spec.yaml").string(),
                                   "target_parquet=" + (dir / "targets.csv").string(),
                                   "source_parquet=" + (dir / "pool.csv").string(),
                                   "output_dir=" + (dir / "out").string(),
                                   "embedding.chunk_rows=4"};
  const std::vector<std::string> kill_env = {"DEFT_FAULT_KILL_AFTER_CHUNKS=4"};
  auto r = testing::run_process(args, &kill_env);
  ASSERT_EQ(r.exit_code, 128 + 9) << r.err;
  const fs::path folder = run_folder(dir.path());
  EXPECT_FALSE(fs::exists(folder / "mined.parquet"));
  EXPECT_THAT(testing::read_text_file(folder / "run_manifest.json"),
              HasSubstr("\"state\": \"running\""));

  // Another batch size is the same run: it changes no vector (fp32).
  args.push_back("batch_size=5");
  r = testing::run_process(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run_folder(dir.path()), folder);
  EXPECT_THAT(r.err, HasSubstr("continuing the unfinished run in '" + folder.string() + "'"));
  EXPECT_THAT(r.err, HasSubstr("resuming: 2 of 8 chunks of 4 rows"));
  EXPECT_THAT(testing::read_text_file(folder / "run_manifest.json"),
              HasSubstr("\"state\": \"complete\""));
  const std::string report = testing::read_text_file(folder / "Mining_Report.md");
  EXPECT_THAT(report, HasSubstr("6 rows. 0 were embedded in this run and 6 were reused"));

  // A finished run is not continued: the same command starts a new folder, with the same
  // result as the continued one.
  r = testing::run_process(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto folders = testing::directory_entries(dir / "out/mining_results");
  ASSERT_EQ(folders.size(), 2U);
  const fs::path second = dir / "out/mining_results" / folders[1];
  EXPECT_EQ(all_rows(second / "mined.parquet"), all_rows(folder / "mined.parquet"));

  // fresh=true starts a new folder even when the newest one is unfinished.
  r = testing::run_process(args, &kill_env);
  ASSERT_EQ(r.exit_code, 128 + 9);
  args.push_back("fresh=true");
  r = testing::run_process(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("continuing the unfinished run")));
  EXPECT_EQ(testing::directory_entries(dir / "out/mining_results").size(), 4U);
}

std::string verdict(const fs::path& dir) {
  const std::string report = testing::read_text_file(run_folder(dir) / "Mining_Report.md");
  const size_t heading = report.find("## Verdict");
  const size_t start = heading == std::string::npos ? heading : report.find("**", heading);
  if (start == std::string::npos) return "(no verdict in the report)";
  return report.substr(start, report.find('\n', start) - start);
}

TEST(RunVerdict, PoolSmallerThanTopnTimesTargets) {
  ScratchDir dir;
  write_set(dir.path());
  const auto r = run(dir.path(), {"mining.topn=6"});  // 6 × 6 = 36 > 30 pool images
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(verdict(dir.path()), "**CHECK: pool smaller than topn × targets**");
  EXPECT_THAT(testing::read_text_file(run_folder(dir.path()) / "Mining_Report.md"),
              HasSubstr("Enlarge the pool or lower topn"));
}

TEST(RunVerdict, MissingLabelColumnUnderFiltering) {
  ScratchDir dir;
  write_set(dir.path(), /*pool_labels=*/false);
  const auto r = run(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(verdict(dir.path()), "**CHECK: label filter did nothing**");
}

// A pool embedded earlier by another encoder (a tiny SigLIP checkpoint): its parquet, or empty
// (with a test failure) when the embedding failed.
fs::path embed_pool_with_tiny_siglip(const fs::path& dir) {
  const fs::path other = dir / "siglip_pool.parquet";
  const auto e = deft(
      {"embed", "input_parquet=" + (dir / "pool.csv").string(), "output_parquet=" + other.string(),
       "model=SigLIP",
       "model_path=" + (fs::path(DEFT_SOURCE_DIR) / "tests/data/tiny/siglip").string(), "--quiet"});
  EXPECT_EQ(e.exit_code, 0) << e.err;
  return e.exit_code == 0 ? other : fs::path();
}

TEST(RunVerdict, EncoderMismatchIsRefused) {
  ScratchDir dir;
  write_set(dir.path());
  const fs::path other = embed_pool_with_tiny_siglip(dir.path());
  ASSERT_FALSE(other.empty());
  const auto r = run(dir.path(), {"source_embeddings=" + other.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("were embedded by different encoders"));
  EXPECT_EQ(verdict(dir.path()), "**FAIL: encoder mismatch**");
  // A failed run still writes its visual report, and its manifest says it failed (the same
  // command would continue it).
  const fs::path folder = run_folder(dir.path());
  EXPECT_THAT(testing::read_text_file(folder / "report.html"), HasSubstr("FAIL: encoder mismatch"));
  EXPECT_THAT(testing::read_text_file(folder / "run_manifest.json"),
              HasSubstr("\"state\": \"failed\""));
}

// allow_encoder_mismatch=true: mining goes on (with its warning), and so does the verdict.
TEST(RunVerdict, AnAllowedEncoderMismatchIsNotAFailure) {
  ScratchDir dir;
  write_set(dir.path());
  const fs::path other = embed_pool_with_tiny_siglip(dir.path());
  ASSERT_FALSE(other.empty());
  // Different encoders, and different dimensions too: mining accepts the encoders (with its
  // warning), then stops at the dimensions.
  const auto r = run(dir.path(),
                     {"source_embeddings=" + other.string(), "mining.allow_encoder_mismatch=true"});
  EXPECT_THAT(r.err, HasSubstr("mining across different encoders (allow_encoder_mismatch=true)"));
  // Not `FAIL: encoder mismatch`: what stopped mining was the dimensions.
  EXPECT_THAT(verdict(dir.path()), ::testing::StartsWith("**FAIL: "));
  EXPECT_THAT(verdict(dir.path()), HasSubstr("dimensions"));
}

}  // namespace
}  // namespace deft

namespace deft {
namespace {

// A target label that no pool row has (here 'scratch', compared as the reference compares
// labels, so named 'SCRATCH') is reported before any image is decoded:
// an error under strict, with nothing embedded; a warning before the first embedding otherwise.
TEST(RunLabels, ATargetLabelAbsentFromThePoolIsReportedBeforeEmbedding) {
  ScratchDir dir;
  write_set(dir.path());
  std::string targets = testing::read_text_file(dir / "targets.csv");
  const size_t first_row = targets.find('\n') + 1;
  const std::string row = targets.substr(first_row, targets.find('\n', first_row) + 1 - first_row);
  targets += row.substr(0, row.find(',')) + ",scratch\n";  // the same image, a new label
  testing::write_text_file(dir / "targets.csv", targets);

  auto r = run(dir.path(), {"mining.strict=true"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no pool row of '" + (dir / "pool.csv").string() +
                               "' has the label 'SCRATCH' of 1 target"));
  EXPECT_THAT(r.err, HasSubstr("found before embedding anything"));
  const fs::path folder = run_folder(dir.path());
  EXPECT_FALSE(fs::exists(folder / "target_embeddings.parquet"));
  EXPECT_FALSE(fs::exists(folder / "source_embeddings.parquet"));

  fs::remove_all(dir / "out");
  r = run(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t warning = r.err.find("has the label 'SCRATCH' of 1 target");
  const size_t embedding = r.err.find("deft run: embedding");
  ASSERT_NE(warning, std::string::npos) << r.err;
  ASSERT_NE(embedding, std::string::npos) << r.err;
  EXPECT_LT(warning, embedding);
}

}  // namespace
}  // namespace deft

namespace deft {
namespace {

// A pool embedding written the way the reference writes it (LIST<DOUBLE>, no deft metadata):
// mined as it is, and the unknown-encoder warning is in stderr, the summary and the report.
TEST(RunUnknownEncoder, AReferenceWrittenPoolIsMinedWithTheWarningEverywhere) {
  ScratchDir dir;
  write_set(dir.path());
  const fs::path reference = dir / "reference_pool.parquet";
  table::Database db;
  // The thumbnail encoder's 768 dimensions (16 × 16 × 3), vectors from a hash of the path.
  testing::sql_exec(db,
                    "COPY (SELECT filepath, label, list_transform(range(768), i -> "
                    "((hash(filepath || i::VARCHAR) % 1000)::DOUBLE / 1000.0 - 0.5)) AS embedding "
                    "FROM read_csv(" +
                        quoted(dir / "pool.csv") + ", header = true)) TO " + quoted(reference) +
                        " (FORMAT parquet)");
  const auto r = run(dir.path(), {"source_embeddings=" + reference.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string warning =
      "not checked: no encoder fingerprint (deft.encoder) in '" + reference.string() + "'";
  EXPECT_THAT(r.err, HasSubstr(warning));
  const fs::path folder = run_folder(dir.path());
  EXPECT_THAT(testing::read_text_file(folder / "mining_summary.txt"),
              HasSubstr("encoder_check: " + warning));
  EXPECT_THAT(testing::read_text_file(folder / "Mining_Report.md"), HasSubstr(warning));
}

}  // namespace
}  // namespace deft
