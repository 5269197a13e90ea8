// The encoder-family plug point is real: a family registered here, in a test — one registry
// row and one builder — embeds through the real pipeline (config.json read by model_type, its
// processor defaults, the Embedder, deft embed's job, the fingerprint). The family ("TestMean")
// answers each image with its three channel means after preprocessing; the images are solid
// colours, whose preprocessed values are known by hand: (v / 255 − 0.5) / 0.5.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "embed/embed_job.h"
#include "model/encoder.h"
#include "model/families.h"
#include "model/processor_config.h"
#include "safetensors_writer.h"
#include "table/duckdb_handles.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using Rows = std::vector<std::vector<std::string>>;

class MeanEncoder final : public model::Encoder {
 public:
  MeanEncoder(model::ModelConfig config, model::ActivationDump dump)
      : Encoder(std::move(config), std::move(dump)) {}
  size_t embedding_dim() const override { return 3; }
  const char* kernel_name() const override { return "reference"; }

 private:
  void run(const float* pixels, size_t n, float* out) const override {
    const auto& p = config().processor;
    const size_t plane = static_cast<size_t>(p.input_height()) * p.input_width();
    for (size_t i = 0; i < n; ++i) {
      for (size_t c = 0; c < 3; ++c) {
        double sum = 0;
        for (size_t k = 0; k < plane; ++k)
          sum += pixels[(i * 3 + c) * plane + k];
        out[i * 3 + c] = static_cast<float>(sum / static_cast<double>(plane));
      }
    }
  }
};

// A 24-bit BMP of one colour (bottom-up rows padded to 4 bytes), written by hand.
void write_solid_bmp(const fs::path& path, int w, int h, unsigned char r, unsigned char g,
                     unsigned char b) {
  const int row = (3 * w + 3) / 4 * 4;
  const int size = 54 + row * h;
  std::string bytes(static_cast<size_t>(size), '\0');
  const auto put = [&](size_t at, uint32_t v, int n) {
    for (int i = 0; i < n; ++i)
      bytes[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  bytes[0] = 'B';
  bytes[1] = 'M';
  put(2, static_cast<uint32_t>(size), 4);
  put(10, 54, 4);
  put(14, 40, 4);
  put(18, static_cast<uint32_t>(w), 4);
  put(22, static_cast<uint32_t>(h), 4);
  put(26, 1, 2);
  put(28, 24, 2);
  put(34, static_cast<uint32_t>(row * h), 4);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const size_t at = 54 + static_cast<size_t>(y) * row + static_cast<size_t>(x) * 3;
      bytes[at] = static_cast<char>(b);
      bytes[at + 1] = static_cast<char>(g);
      bytes[at + 2] = static_cast<char>(r);
    }
  }
  testing::write_text_file(path, bytes);
}

TEST(FamilyRegistry, ARegisteredFamilyEmbedsThroughTheRealPipeline) {
  model::register_family({.name = "TestMean",
                          .model_types = {"deft_test_mean"},
                          .defaults =
                              [] {
                                model::VisionConfig v;
                                v.hidden_size = 4;
                                v.intermediate_size = 4;
                                v.num_hidden_layers = 1;
                                v.num_attention_heads = 1;
                                v.image_size = 8;
                                v.patch_size = 8;
                                v.use_head = false;
                                return v;
                              },
                          .read_config = [](const nlohmann::json&, const std::string&,
                                            model::VisionConfig&, const fs::path&) {},
                          .default_processor = model::siglip_default_processor,
                          .build =
                              [](const model::Checkpoint&, model::ModelConfig config,
                                 const model::ComputeOptions&, model::ActivationDump dump) {
                                return std::make_unique<MeanEncoder>(std::move(config),
                                                                     std::move(dump));
                              }});
  testing::ScratchDir dir;
  fs::create_directories(dir / "model");
  testing::write_text_file(dir / "model/config.json", R"({"model_type": "deft_test_mean"})");
  testing::write_safetensors(dir / "model/model.safetensors", {{"unused", {{1}, {0.0F}}}});
  write_solid_bmp(dir / "red.bmp", 20, 10, 255, 0, 51);
  write_solid_bmp(dir / "grey.bmp", 7, 9, 102, 102, 102);
  testing::write_text_file(dir / "t.csv", "filepath\nred.bmp\ngrey.bmp\n");

  embed::EmbedJob job;
  job.input = dir / "t.csv";
  job.output = dir / "e.parquet";
  job.embedder = {.family = "testmean", .model_path = (dir / "model").string()};
  const embed::EmbedReport r = embed::run_embed_job(job);
  EXPECT_EQ(r.embedded, 2U);
  EXPECT_EQ(r.failed, 0U);
  table::Database db;
  // (v / 255 − 0.5) / 0.5: 255 → 1, 0 → −1, 51 → −0.6, 102 → −0.2 (float rounding aside).
  EXPECT_EQ(testing::sql_rows(db,
                              "SELECT filepath, list_transform(embedding, x -> round(x, 5)) "
                              "FROM " +
                                  testing::quoted(dir / "e.parquet")),
            (Rows{{"red.bmp", "[1.0, -1.0, -0.6]"}, {"grey.bmp", "[-0.2, -0.2, -0.2]"}}));
  EXPECT_THAT(testing::sql_rows(db, "SELECT decode(value) FROM parquet_kv_metadata(" +
                                        testing::quoted(dir / "e.parquet") +
                                        ") WHERE decode(key) = 'deft.encoder'")[0][0],
              ::testing::HasSubstr("\"family\":\"TestMean\""));
}

}  // namespace
}  // namespace deft
