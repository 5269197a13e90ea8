// `deft embed` as a user runs it on hub-shaped checkpoints: `model=SigLIP2` on the SigLIP2
// fixture (BILINEAR processor) and `model=DINOv2` on a folder holding only pytorch_model.bin
// give the reference embeddings of tests/data/generate_published_models.py for PNG files.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "embedding_parity.h"
#include "image_writer.h"
#include "ppm.h"
#include "table/duckdb_handles.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;

const fs::path kPublished = fs::path(DEFT_BUILD_DIR) / "tests/published";

void expect_embeddings_match(const std::string& model, const fs::path& checkpoint,
                             const std::string& reference_folder) {
  testing::ScratchDir dir;
  const nlohmann::json all = nlohmann::json::parse(std::ifstream(kPublished / "reference.json"));
  std::string csv = "filepath\n";
  for (const auto& name : all["images"]) {
    const std::string file = name.get<std::string>() + ".png";
    testing::write_rgb_image(
        dir / file, testing::read_ppm(fs::path(DEFT_SOURCE_DIR) / "tests/data/tiny/images" /
                                      (name.get<std::string>() + ".ppm")));
    csv += file + "\n";
  }
  testing::write_text_file(dir / "images.csv", csv);
  const auto r = testing::run_deft_binary(
      {"embed", "input_parquet=" + (dir / "images.csv").string(),
       "output_parquet=" + (dir / "out.parquet").string(), "model=" + model,
       "model_path=" + checkpoint.string(), "precision=fp32", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  table::Database db;
  const auto rows = testing::sql_rows(
      db, "SELECT filepath, embedding FROM " + testing::quoted(dir / "out.parquet"));
  ASSERT_EQ(rows.size(), all["images"].size());
  for (const auto& row : rows) {
    const std::string name = fs::path(row[0]).stem().string();
    const auto want =
        all["checkpoints"][reference_folder]["embeddings"][name].get<std::vector<double>>();
    const auto got = nlohmann::json::parse(row[1]).get<std::vector<double>>();
    ASSERT_EQ(got.size(), want.size()) << name;
    double scale = 0;
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      scale = std::max(scale, std::abs(want[i]));
      worst = std::max(worst, std::abs(want[i] - got[i]));
    }
    EXPECT_LE(worst, testing::kRelativeTolerance * scale) << model << " " << name;
  }
}

TEST(PublishedEmbed, Siglip2ByItsFamilyNameWithItsBilinearProcessor) {
  expect_embeddings_match("SigLIP2", kPublished / "siglip2-base-patch16-224",
                          "siglip2-base-patch16-224");
}

TEST(PublishedEmbed, AFolderWithOnlyPytorchModelBin) {
  expect_embeddings_match("DINOv2", kPublished / "bin/dinov2-small", "dinov2-small");
}

}  // namespace
}  // namespace deft
