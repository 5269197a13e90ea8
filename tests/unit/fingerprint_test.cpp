#include "model/fingerprint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(DEFT_SOURCE_DIR) / "tests/data/tiny";

void copy_checkpoint(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const char* f : {"config.json", "preprocessor_config.json", "model.safetensors"}) {
    fs::copy_file(from / f, to / f);
  }
}

TEST(Fingerprint, OneCheckpointInTwoFoldersHasOneDigest) {
  testing::ScratchDir dir;
  copy_checkpoint(kFixtures / "clip", dir / "a");
  copy_checkpoint(kFixtures / "clip", dir / "b");
  const std::string a = model::weights_digest(model::Checkpoint(dir / "a"));
  EXPECT_EQ(a, model::weights_digest(model::Checkpoint(dir / "b")));
  EXPECT_THAT(a, ::testing::MatchesRegex("xxh3-128:[0-9a-f]{32}"));
  // Other weights, or the same weights in another dtype, are another encoder.
  EXPECT_NE(a, model::weights_digest(model::Checkpoint(kFixtures / "clip_f16")));

  // One flipped byte in one tensor changes the digest.
  std::string bytes = testing::read_text_file(dir / "b/model.safetensors");
  bytes[bytes.size() - 3] = static_cast<char>(bytes[bytes.size() - 3] ^ 0x01);
  testing::write_text_file(dir / "b/model.safetensors", bytes);
  EXPECT_NE(a, model::weights_digest(model::Checkpoint(dir / "b")));
}

TEST(Fingerprint, JsonRoundTripsAndRecordsThePreprocessing) {
  const model::ModelLocation where{kFixtures / "clip", "openai/clip-tiny",
                                   "0123456789abcdef0123456789abcdef01234567"};
  const model::Checkpoint checkpoint(where.folder);
  const model::ModelConfig config = model::load_model_config(where.folder, model::Family::kCLIP);
  const model::EncoderFingerprint f =
      model::make_fingerprint(where, checkpoint, config, "fp32", 16);
  EXPECT_EQ(f.preprocessing,
            "resize shortest edge 32 bicubic(pillow); center crop 32x32; rescale "
            "0.00392156862745098; mean [0.48145467, 0.4578275, 0.40821072]; std [0.26862955, "
            "0.2613026, 0.2757771]; rgb; exif not applied");
  EXPECT_EQ(f.input_height, 32);
  EXPECT_FALSE(f.normalized);
  const std::string json = f.to_json();
  const model::EncoderFingerprint back = model::EncoderFingerprint::from_json(json, "x.parquet");
  EXPECT_EQ(back.to_json(), json);
  EXPECT_EQ(back.weights_digest, f.weights_digest);
  EXPECT_EQ(back.revision, where.revision);

  try {
    model::EncoderFingerprint::from_json(R"({"family": "CLIP"})", "pool.parquet");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("pool.parquet: deft.encoder is not a valid encoder "
                                               "fingerprint"));
  }
}

TEST(Fingerprint, ArchitectureAndDecodingAreRecordedAndCompared) {
  const model::ModelLocation where{kFixtures / "clip", "openai/clip-tiny", ""};
  const model::Checkpoint checkpoint(where.folder);
  const model::ModelConfig config = model::load_model_config(where.folder, model::Family::kCLIP);
  model::EncoderFingerprint a = model::make_fingerprint(where, checkpoint, config, "fp32", 16);
  // The tiny CLIP's config: 32 wide, 2 layers of 2 heads, patch 8, 32 px, MLP 64, quick_gelu.
  EXPECT_EQ(a.architecture,
            "clip; hidden 32; layers 2; heads 2; patch 8; image 32; mlp 64; eps 1e-05; act "
            "quick_gelu; projection 16");
  a.shrink_on_load = true;
  a.exif_orientation = "ignore";
  const model::EncoderFingerprint back = model::EncoderFingerprint::from_json(a.to_json(), "x");
  EXPECT_EQ(back.architecture, a.architecture);
  EXPECT_EQ(back.shrink_on_load, std::optional<bool>(true));
  EXPECT_EQ(back.exif_orientation, "ignore");

  model::EncoderFingerprint b = a;
  b.shrink_on_load = false;  // below the bf16 tolerance: the same encoder, noted
  EXPECT_TRUE(model::same_encoder(a, b));
  EXPECT_FALSE(model::same_embeddings(a, b));
  EXPECT_EQ(model::tolerated_differences(a, b), "shrink_on_load true vs false");
  b = a;
  b.exif_orientation = "apply";  // rotated photos give other vectors: another encoder
  EXPECT_FALSE(model::same_encoder(a, b));
  b = a;
  b.architecture =
      "clip; hidden 32; layers 2; heads 2; patch 8; image 32; mlp 64; eps 1e-05; "
      "act gelu_erf; projection 16";  // same weights, another activation
  EXPECT_FALSE(model::same_encoder(a, b));
  // A fingerprint written before these fields existed is compared on the rest.
  b = a;
  b.architecture.clear();
  b.exif_orientation.clear();
  b.shrink_on_load.reset();
  EXPECT_TRUE(model::same_encoder(a, b));
  EXPECT_EQ(model::tolerated_differences(a, b), "");
}

}  // namespace
}  // namespace deft
