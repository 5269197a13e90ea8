// `deft embed-text` / `embedding text_embeddings` as a user runs them: a CSV or parquet with a
// `text` column in, the embedding parquet out, its features equal to the independent PyTorch
// reference (tests/data/generate_text_towers.py) for the tiny CLIP and SigLIP towers.
#include <cmath>
#include <csignal>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image_writer.h"
#include "table/duckdb_handles.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const fs::path kText = fs::path(DEFT_SOURCE_DIR) / "tests/data/text";

nlohmann::json reference(const std::string& family) {
  std::ifstream in(kText / "tower_reference.json");
  return nlohmann::json::parse(in)[family];
}

std::string csv_field(const std::string& text) {
  std::string out = "\"";
  for (char c : text)
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// The texts of the reference (one of them empty, quoted "" in the CSV) with an id and a score
// to carry; the output's rows keep every input column and add features within 1e-4 × scale
// (fp32) of the reference's.
void expect_reference_features(const std::string& family, const std::string& model) {
  testing::ScratchDir dir;
  const nlohmann::json ref = reference(family);
  const std::vector<std::string> texts = ref["texts"];
  std::string csv = "id,text,score\n";
  for (size_t i = 0; i < texts.size(); ++i)
    csv += fmt::format("{},{},{}\n", i + 10, csv_field(texts[i]), 0.5 * i);
  testing::write_text_file(dir / "prompts.csv", csv);
  const auto r = testing::run_deft_binary(
      {"embed-text", "input_parquet=" + (dir / "prompts.csv").string(),
       "output_parquet=" + (dir / "out.parquet").string(), "model=" + model,
       "model_path=" + (kText / (family + "_tower")).string(), "precision=fp32", "batch_size=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("text tower"));
  table::Database db;
  const auto rows = testing::sql_rows(db, "SELECT id, text, score, embedding::VARCHAR FROM " +
                                              testing::quoted(dir / "out.parquet"));
  ASSERT_EQ(rows.size(), texts.size());
  const std::vector<std::vector<double>> want = ref["features"];
  double scale = 0;
  for (const auto& f : want)
    for (double v : f)
      scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i][0], std::to_string(i + 10));
    EXPECT_EQ(rows[i][1], texts[i]) << "the text is carried as it was (an empty one stays empty)";
    std::vector<double> got;
    std::string list = rows[i][3].substr(1, rows[i][3].size() - 2);
    for (size_t at = 0; at < list.size();) {
      size_t end = list.find(',', at);
      if (end == std::string::npos) end = list.size();
      got.push_back(std::stod(list.substr(at, end - at)));
      at = end + 1;
    }
    ASSERT_EQ(got.size(), want[i].size());
    for (size_t j = 0; j < got.size(); ++j)
      EXPECT_NEAR(got[j], want[i][j], 1e-4 * scale) << family << " text " << i << " dim " << j;
  }
  const auto meta = testing::sql_rows(db, "SELECT decode(value) FROM parquet_kv_metadata(" +
                                              testing::quoted(dir / "out.parquet") +
                                              ") WHERE key::VARCHAR = 'deft.encoder'");
  ASSERT_EQ(meta.size(), 1U);
  EXPECT_THAT(meta[0][0], HasSubstr("\"tower\":\"text\""));
}

TEST(EmbedText, ClipFeaturesEqualTheReference) {
  expect_reference_features("clip", "CLIP");
}

TEST(EmbedText, SiglipFeaturesEqualTheReference) {
  expect_reference_features("siglip", "SigLIP");
}

TEST(EmbedText, Siglip2FeaturesEqualTheReference) {
  expect_reference_features("siglip2", "SigLIP2");
}

TEST(EmbedText, TheTaoFormAndItsMistakes) {
  testing::ScratchDir dir;
  testing::write_text_file(dir / "p.csv", "text\nhello\n\nworld\n");
  // An unquoted empty field is NULL: refused, naming the row.
  auto r = testing::run_deft_binary({"embedding", "text_embeddings",
                                     "input_parquet=" + (dir / "p.csv").string(),
                                     "output_parquet=" + (dir / "o.parquet").string(), "model=CLIP",
                                     "model_path=" + (kText / "clip_tower").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("row 1: text is NULL"));
  EXPECT_FALSE(fs::exists(dir / "o.parquet"));
  // No text column.
  testing::write_text_file(dir / "q.csv", "caption\nhello\n");
  r = testing::run_deft_binary({"embed-text", "input_parquet=" + (dir / "q.csv").string(),
                                "output_parquet=" + (dir / "o.parquet").string(), "model=CLIP",
                                "model_path=" + (kText / "clip_tower").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("has no column 'text'"));
  // A checkpoint folder without the tokenizer's files.
  r = testing::run_deft_binary({"embed-text", "input_parquet=" + (dir / "q.csv").string(),
                                "output_parquet=" + (dir / "o.parquet").string(), "model=SigLIP",
                                "model_path=" + (kText / "clip_tower").string()});
  EXPECT_NE(r.exit_code, 0);
  // The output over the input is refused.
  r = testing::run_deft_binary({"embed-text", "input_parquet=" + (dir / "p.csv").string(),
                                "output_parquet=" + (dir / "p.csv").string(), "model=CLIP",
                                "model_path=" + (kText / "clip_tower").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(testing::read_text_file(dir / "p.csv"), "text\nhello\n\nworld\n");
}

std::vector<double> parse_list(const std::string& text) {
  std::vector<double> out;
  const std::string list = text.substr(1, text.size() - 2);
  for (size_t at = 0; at < list.size();) {
    size_t end = list.find(',', at);
    if (end == std::string::npos) end = list.size();
    out.push_back(std::stod(list.substr(at, end - at)));
    at = end + 1;
  }
  return out;
}

// The pairs a mining run wrote equal a brute-force cosine ranking of each text target's topn
// nearest pool images over the two embedding parquets' vectors.
void expect_brute_force_pairs(const fs::path& targets, const fs::path& pool, const fs::path& pairs,
                              size_t topn) {
  table::Database db;
  const auto load = [&](const fs::path& file, const std::string& key) {
    std::vector<std::pair<std::string, std::vector<double>>> rows;
    for (const auto& row : testing::sql_rows(
             db, fmt::format("SELECT {}, embedding::VARCHAR FROM {}", key, testing::quoted(file))))
      rows.emplace_back(row[0], parse_list(row[1]));
    return rows;
  };
  const auto texts = load(targets, "text");
  const auto images = load(pool, "filepath");
  ASSERT_FALSE(texts.empty());
  ASSERT_GE(images.size(), topn);
  std::set<std::pair<std::string, std::string>> want;
  for (const auto& [text, t] : texts) {
    std::vector<std::pair<double, std::string>> ranked;
    for (const auto& [path, p] : images) {
      double dot = 0, tt = 0, pp = 0;
      for (size_t j = 0; j < t.size(); ++j) {
        dot += t[j] * p[j];
        tt += t[j] * t[j];
        pp += p[j] * p[j];
      }
      ranked.emplace_back(1.0 - dot / std::sqrt(tt * pp), fs::path(path).filename().string());
    }
    std::sort(ranked.begin(), ranked.end());
    for (size_t k = 0; k < topn; ++k)
      want.emplace(text, ranked[k].second);
  }
  std::set<std::pair<std::string, std::string>> got;
  for (const auto& row :
       testing::sql_rows(db, "SELECT target_filepath, filepath FROM " + testing::quoted(pairs)))
    got.emplace(row[0], fs::path(row[1]).filename().string());
  EXPECT_EQ(got, want);
}

// Text targets against an image pool of one checkpoint (tests/data/text/clip_both: the tiny
// CLIP's vision tower with the tiny text tower): `deft mine` accepts the pair (same weights,
// text and image towers), names the targets by their text, and mines each text's topn nearest
// images: the pairs equal a brute-force cosine ranking over the two parquets' vectors.
TEST(EmbedText, MiningImagesByTextTargets) {
  testing::ScratchDir dir;
  const std::string model = (kText / "clip_both").string();
  std::string images = "filepath\n";
  for (unsigned i = 0; i < 12; ++i) {
    const std::string name = fmt::format("img_{:02}.png", i);
    testing::write_image(dir / name, 40 + static_cast<int>(i), 36, 3, i + 1);
    images += name + "\n";
  }
  testing::write_text_file(dir / "images.csv", images);
  testing::write_text_file(dir / "prompts.csv",
                           "text,why\na photo of a cat,pets\nwet asphalt at night,roads\n"
                           "\"a forklift, a warehouse\",industry\n");
  auto r = testing::run_deft_binary({"embed", "input_parquet=" + (dir / "images.csv").string(),
                                     "output_parquet=" + (dir / "pool.parquet").string(),
                                     "model=CLIP", "model_path=" + model, "precision=fp32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_deft_binary({"embed-text", "input_parquet=" + (dir / "prompts.csv").string(),
                                "output_parquet=" + (dir / "targets.parquet").string(),
                                "model=CLIP", "model_path=" + model, "precision=fp32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_deft_binary({"mine", "target_parquet=" + (dir / "targets.parquet").string(),
                                "source_parquet=" + (dir / "pool.parquet").string(),
                                "output_parquet=" + (dir / "mined.parquet").string(), "topn=3",
                                "provenance=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(testing::read_text_file(dir / "mining_summary.txt"),
              HasSubstr("same checkpoint, text and image towers"));
  expect_brute_force_pairs(dir / "targets.parquet", dir / "pool.parquet",
                           dir / "mined.parquet.pairs.parquet", 3);
  // `deft select` reads the same table by its text column without being told.
  r = testing::run_deft_binary({"select", "target_path=" + (dir / "targets.parquet").string(),
                                "source_path=" + (dir / "pool.parquet").string(),
                                "output_dir=" + (dir / "selected").string(),
                                "desired_unique_count=3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  table::Database db;
  EXPECT_EQ(testing::sql_rows(
                db, "SELECT count(*) FROM " +
                        testing::quoted(dir / "selected" / "final_unique_files.parquet"))[0][0],
            "3");
}

// `deft run target_text=…` over 8 PNG images (seeds from `first_seed`) and two prompts, the
// embedding spec on clip_both in fp32 and `mining_spec` as the -m spec, in `dir`. Returns the
// run folder, or an empty path (after a failed expectation) when the run did not finish.
fs::path run_with_text_targets(const fs::path& dir, unsigned first_seed,
                               const std::string& mining_spec) {
  std::string images = "filepath\n";
  for (unsigned i = 0; i < 8; ++i) {
    const std::string name = fmt::format("img_{}.png", i);
    testing::write_image(dir / name, 48, 40, 3, i + first_seed);
    images += name + "\n";
  }
  testing::write_text_file(dir / "images.csv", images);
  testing::write_text_file(dir / "prompts.csv", "text\nwet asphalt at night\na red car\n");
  testing::write_text_file(
      dir / "embedding_spec.yaml",
      "model: CLIP\nmodel_path: " + (kText / "clip_both").string() + "\nprecision: fp32\n");
  testing::write_text_file(dir / "mining_spec.yaml", mining_spec);
  const auto r = testing::run_deft_binary(
      {"run", "-e", (dir / "embedding_spec.yaml").string(), "-m",
       (dir / "mining_spec.yaml").string(), "target_text=" + (dir / "prompts.csv").string(),
       "source_parquet=" + (dir / "images.csv").string(), "output_dir=" + (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto runs = testing::directory_entries(dir / "out" / "mining_results");
  EXPECT_EQ(runs.size(), 1U);
  return r.exit_code == 0 && runs.size() == 1 ? dir / "out" / "mining_results" / runs[0]
                                              : fs::path();
}

// `deft run target_text=…`: the texts embedded by the model's text tower, the pool's images by
// its vision tower, mined, and reported with each target's prompt where an image target shows
// its thumbnail.
TEST(EmbedText, RunWithTextTargetsMinesImagesAndShowsThePrompts) {
  testing::ScratchDir dir;
  const fs::path run = run_with_text_targets(dir.path(), 20, "topn: 2\n");
  ASSERT_FALSE(run.empty());
  EXPECT_THAT(testing::read_text_file(run / "mining_summary.txt"),
              HasSubstr("same checkpoint, text and image towers"));
  EXPECT_THAT(testing::read_text_file(run / "Mining_Report.md"),
              HasSubstr("one checkpoint's text and image towers, whose features share one space"));
  const std::string html = testing::read_text_file(run / "report.html");
  EXPECT_THAT(html, HasSubstr("<div class=\"prompt\">wet asphalt at night</div>"));
  EXPECT_THAT(html, HasSubstr("<div class=\"prompt\">a red car</div>"));
  expect_brute_force_pairs(run / "target_embeddings.parquet", run / "source_embeddings.parquet",
                           run / "mined.parquet.pairs.parquet", 2);
  // Both targets given: refused before any work.
  const auto both = testing::run_deft_binary({"run", "-e", (dir / "embedding_spec.yaml").string(),
                                              "target_text=" + (dir / "prompts.csv").string(),
                                              "target_parquet=" + (dir / "images.csv").string(),
                                              "source_parquet=" + (dir / "images.csv").string(),
                                              "output_dir=" + (dir / "out2").string()});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_THAT(both.err, HasSubstr("target_parquet and target_text both name the targets"));
}

// The same with unique matching (`deft run`'s mode from a -m spec with desired_unique_count):
// the texts claim unique images, the selection report shows the prompts.
TEST(EmbedText, RunSelectsUniqueImagesForTextTargets) {
  testing::ScratchDir dir;
  const fs::path run = run_with_text_targets(dir.path(), 40, "desired_unique_count: 4\n");
  ASSERT_FALSE(run.empty());
  table::Database db;
  EXPECT_EQ(testing::sql_rows(db, "SELECT count(*) FROM " +
                                      testing::quoted(run / "final_unique_files.parquet"))[0][0],
            "4");
  EXPECT_THAT(testing::read_text_file(run / "Mining_Report.md"),
              HasSubstr("one checkpoint's text and image towers"));
  const std::string html = testing::read_text_file(run / "report.html");
  EXPECT_THAT(html, HasSubstr("<div class=\"prompt\">wet asphalt at night</div>"));
  EXPECT_THAT(html, HasSubstr("<div class=\"prompt\">a red car</div>"));
}

// A run killed after its first finished part (DEFT_FAULT_KILL_AFTER_CHUNKS: a SIGKILL the
// process sends itself) leaves no output; started again, it keeps that part and writes the
// same table a run never killed writes.
TEST(EmbedText, AKilledRunResumesFromItsFinishedParts) {
  testing::ScratchDir dir;
  std::string csv = "text,n\n";
  for (int i = 0; i < 11; ++i)
    csv += fmt::format("\"caption number {} of a red car\",{}\n", i, i);
  testing::write_text_file(dir / "prompts.csv", csv);
  const auto embed = [&](const std::string& out, bool killed) {
    const std::vector<std::string> args = {DEFT_BINARY,
                                           "embed-text",
                                           "input_parquet=" + (dir / "prompts.csv").string(),
                                           "output_parquet=" + (dir / out).string(),
                                           "model=CLIP",
                                           "model_path=" + (kText / "clip_tower").string(),
                                           "precision=fp32",
                                           "batch_size=3",
                                           "chunk_rows=4"};
    const std::vector<std::string> env = {"DEFT_FAULT_KILL_AFTER_CHUNKS=1"};
    return testing::run_process(args, killed ? &env : nullptr);
  };
  auto r = embed("whole.parquet", false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = embed("resumed.parquet", true);
  ASSERT_EQ(r.exit_code, 128 + SIGKILL) << r.err;
  EXPECT_FALSE(fs::exists(dir / "resumed.parquet"));
  r = embed("resumed.parquet", false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("resuming: 1 of 3 chunks of 4 rows"));
  EXPECT_THAT(r.err, HasSubstr("11 texts (7 by this run, 1 parts resumed)"));
  EXPECT_FALSE(fs::exists(dir / ".resumed.parquet.deft-partial"));
  table::Database db;
  const auto rows = [&](const std::string& file) {
    return testing::sql_rows(db, "SELECT n, text, embedding::VARCHAR FROM " +
                                     testing::quoted(dir / file) + " ORDER BY n");
  };
  ASSERT_EQ(rows("whole.parquet").size(), 11U);
  EXPECT_EQ(rows("resumed.parquet"), rows("whole.parquet"));
}

}  // namespace
}  // namespace deft
