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

}  // namespace
}  // namespace deft
