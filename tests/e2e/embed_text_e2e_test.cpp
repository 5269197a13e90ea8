// `deft embed-text` / `embedding text_embeddings` as a user runs them: a CSV or parquet with a
// `text` column in, the embedding parquet out, its features equal to the independent PyTorch
// reference (tests/data/generate_text_towers.py) for the tiny CLIP and SigLIP towers.
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace deft
