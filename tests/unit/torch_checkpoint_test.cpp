// pytorch_model.bin checkpoints: the state dicts of the published fixtures saved by Debian's
// torch.save (whole, and sharded with pytorch_model.bin.index.json) give bit-identical
// embeddings and weights digests to their safetensors twins; hostile pickles are refused
// before anything could run; broken files get one-line errors naming the problem
// (tests/data/generate_published_models.py writes them all).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "model/checkpoint.h"
#include "model/encoder.h"
#include "model/fingerprint.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kPublished = fs::path(DEFT_BUILD_DIR) / "tests/published";

std::vector<float> embed_pattern(const fs::path& folder, model::Family family) {
  const auto encoder = model::load_encoder(folder, family, {model::Precision::kF32});
  const auto& p = encoder->config().processor;
  std::vector<float> pixels(2 * 3 * static_cast<size_t>(p.input_height()) * p.input_width());
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<float>(i % 251) / 125.0F - 1.0F;
  std::vector<float> out(2 * encoder->embedding_dim());
  encoder->encode(pixels.data(), 2, out.data());
  return out;
}

TEST(TorchCheckpoint, ABinSavedByTorchEmbedsBitForBitAsItsSafetensorsTwin) {
  for (const auto& [bin, twin, family] :
       {std::tuple{"bin/dinov2-small", "dinov2-small", model::Family::kDINOv2},
        std::tuple{"bin/siglip-base-patch16-224-sharded", "siglip-base-patch16-224",
                   model::Family::kSigLIP}}) {
    EXPECT_EQ(embed_pattern(kPublished / bin, family), embed_pattern(kPublished / twin, family))
        << bin;
    EXPECT_EQ(model::weights_digest(model::Checkpoint(kPublished / bin)),
              model::weights_digest(model::Checkpoint(kPublished / twin)))
        << bin;
  }
  EXPECT_TRUE(
      fs::exists(kPublished / "bin/siglip-base-patch16-224-sharded/pytorch_model.bin.index.json"));
}

std::string error_of(const fs::path& folder) {
  try {
    model::Checkpoint checkpoint(folder);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    return e.what();
  }
  ADD_FAILURE() << "no error for " << folder;
  return {};
}

TEST(TorchCheckpoint, HostilePicklesAreRefusedNamingTheGlobalAndNothingRuns) {
  const fs::path pickles = kPublished / "pickles";
  fs::remove(pickles / "MARKER");  // each case would create it if anything were executed
  // The names as protocol 2 writes them (Python 2 module names, which Python 3 maps back).
  for (const auto& [folder, global] :
       {std::pair{"os_system", "posix.system"}, std::pair{"builtins_eval", "__builtin__.eval"},
        std::pair{"subprocess_call", "commands.call"}}) {
    const std::string error = error_of(pickles / folder);
    EXPECT_THAT(error, HasSubstr("refers to " + std::string(global))) << folder;
    EXPECT_THAT(error, HasSubstr("nothing was executed"));
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  EXPECT_THAT(error_of(pickles / "reduce_storage_type"),
              HasSubstr("REDUCE on torch.FloatStorage, which deft never calls"));
  EXPECT_FALSE(fs::exists(pickles / "MARKER"));
}

TEST(TorchCheckpoint, BrokenFilesGetClearErrors) {
  const fs::path pickles = kPublished / "pickles";
  EXPECT_THAT(error_of(pickles / "legacy_format"), HasSubstr("legacy (pre-1.6) serialization"));
  EXPECT_THAT(error_of(pickles / "truncated_zip"),
              HasSubstr("not a readable PyTorch zip checkpoint"));
  EXPECT_THAT(error_of(pickles / "size_beyond_storage"),
              HasSubstr("tensor 'embeddings.cls_token' (offset 0, size [5, 4], stride [4, 1]) "
                        "reaches past its storage of 16 elements"));
  EXPECT_THAT(error_of(pickles / "offset_beyond_storage"),
              HasSubstr("(offset 20, size [2], stride [1]) reaches past its storage"));
  EXPECT_THAT(error_of(pickles / "record_shorter_than_storage"),
              HasSubstr("its storage claims 64 elements but record 'data/0' holds 64 bytes"));
  EXPECT_THAT(error_of(pickles / "missing_record"),
              HasSubstr("needs storage record 'data/7', which is missing"));
}

TEST(TorchCheckpoint, StridedAndSharedStoragesReadAsPyTorchSeesThem) {
  const model::Checkpoint checkpoint(kPublished / "pickles/strided");
  // The storage holds 0..15; "transposed" is its 4×4 view with strides (1, 4), "row2" = 8..11.
  const std::vector<float> transposed = model::to_f32(checkpoint.tensor("transposed"));
  std::vector<float> expected;
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j)
      expected.push_back(static_cast<float>(i + 4 * j));
  }
  EXPECT_EQ(transposed, expected);
  EXPECT_EQ(model::to_f32(checkpoint.tensor("row2")), (std::vector<float>{8, 9, 10, 11}));
}

// Every truncation and every single-byte change of a small valid file either loads or gives a
// deft::Error: no crash, no other exception (run under ASan by `make test-asan`).
TEST(TorchCheckpoint, EveryTruncationAndByteChangeLoadsOrFailsCleanly) {
  const std::string good = testing::read_text_file(kPublished / "pickles/strided/pytorch_model.bin");
  testing::ScratchDir dir;
  size_t refused = 0;
  size_t loaded = 0;
  const auto attempt = [&](const std::string& bytes) {
    testing::write_text_file(dir / "pytorch_model.bin", bytes);
    try {
      const model::Checkpoint checkpoint(dir.path());
      for (const std::string& name : checkpoint.names()) {
        const model::Tensor& t = checkpoint.tensor(name);
        if (t.dtype == model::DType::kF32) model::to_f32(t);
      }
      ++loaded;
    } catch (const Error&) {
      ++refused;
    }
  };
  for (size_t length = 0; length < good.size(); ++length)
    attempt(good.substr(0, length));
  for (size_t at = 0; at < good.size(); ++at) {
    for (const char change : {'\x01', '\x80', '\xff'}) {
      std::string bytes = good;
      bytes[at] = static_cast<char>(bytes[at] ^ change);
      attempt(bytes);
    }
  }
  EXPECT_EQ(loaded + refused, 4 * good.size());
  EXPECT_GT(refused, good.size());  // at least every truncation
}

}  // namespace
}  // namespace deft
