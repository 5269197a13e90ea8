// Every fuzzing finding stays fixed: each test loads its reproducer from fuzz/regressions/
// (the inputs the fuzzers found, or the issue's reproducers re-created there) through the
// same entry point and asserts the promised outcome — a clear one-line error, bounded in time
// and memory — instead of the crash, undefined behaviour or leak it once caused.
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "common/error.h"
#include "image/decode.h"
#include "model/safetensors.h"
#include "model/torch_pickle.h"
#include "model/vision_config.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const fs::path kRegressions = fs::path(DEFT_SOURCE_DIR) / "fuzz" / "regressions";

std::vector<std::byte> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> chars((std::istreambuf_iterator<char>(in)), {});
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

// The error loading `config` as a checkpoint's config.json gives (for `family`).
std::string config_error(const fs::path& config, model::Family family) {
  testing::ScratchDir dir;
  fs::copy_file(config, dir / "config.json");
  try {
    model::load_model_config(dir.path(), family);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << config << " loaded";
  return {};
}

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// The issue's finding: a wrongly typed key holding 100,000 nested lists crashed (SIGSEGV) while
// the error message dumped the value, one recursion per level.
TEST(FuzzFindings, DeeplyNestedWrongTypeGivesABoundedOneLineError) {
  const std::string error =
      config_error(kRegressions / "model_config" / "hidden_size_100000_nested_lists.json",
                   model::Family::kSigLIP);
  EXPECT_THAT(error, HasSubstr("key 'hidden_size' should be a whole number, is a list of 1 value"));
  EXPECT_LT(error.size(), 300U);
  EXPECT_THAT(error, Not(HasSubstr("\n")));
}

// The issue's finding: 8.7 was truncated to 8 and ran; a number beyond int was cast (UB).
TEST(FuzzFindings, NonIntegerAndOutOfRangeSizesAreRefusedBeforeConversion) {
  EXPECT_THAT(
      config_error(kRegressions / "model_config" / "patch_size_8_7.json", model::Family::kSigLIP),
      HasSubstr("key 'patch_size' should be a whole number, is 8.7"));
  EXPECT_THAT(
      config_error(kRegressions / "model_config" / "hidden_size_1e300.json", model::Family::kCLIP),
      HasSubstr("key 'hidden_size' should be a whole number"));
  EXPECT_THAT(config_error(kRegressions / "model_config" / "num_hidden_layers_beyond_int.json",
                           model::Family::kDINOv2),
              HasSubstr("key 'num_hidden_layers' should be a whole number from -2147483648 to "
                        "2147483647, is 4294967297"));
}

// The issue's finding: a 475-byte CMYK JPEG whose header says 65498×1995 went through libvips,
// decoded to 130 M pixels of filler (2.5 s, ~1.1 GB) and was accepted, where the same
// truncation in an RGB JPEG failed. Now one path, one policy, refused before any allocation.
TEST(FuzzFindings, CmykJpegPromisingMorePixelsThanItsBytesHoldFailsFast) {
  const std::vector<std::byte> bytes =
      read_bytes(kRegressions / "image" / "cmyk_header_65498x1995_475_bytes.jpg");
  ASSERT_EQ(bytes.size(), 475U);
  const long rss_before = peak_rss_kb();
  const auto start = std::chrono::steady_clock::now();
  for (const bool oriented : {false, true}) {
    image::DecodeOptions options;
    options.apply_exif_orientation = oriented;
    try {
      image::decode_image(bytes, options);
      ADD_FAILURE() << "decoded";
    } catch (const image::DecodeError& e) {
      EXPECT_THAT(e.what(), HasSubstr("corrupt or truncated JPEG data: its header promises "
                                      "65498×1995 pixels, more than its 475 bytes can hold"));
    }
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
  EXPECT_LT(peak_rss_kb() - rss_before, 100 * 1024);  // kB: under 100 MB
}

// The same header on an RGB (YCbCr) JPEG gets the same refusal.
TEST(FuzzFindings, RgbJpegWithTheSameHeaderGetsTheSameRefusal) {
  std::vector<std::byte> bytes =
      read_bytes(fs::path(DEFT_SOURCE_DIR) / "tests" / "data" / "images" / "rgb.jpg");
  // SOF0's height and width (big-endian), after its marker, length and precision.
  size_t sof = 2;
  while (!(bytes[sof] == std::byte{0xFF} && bytes[sof + 1] == std::byte{0xC0}))
    ++sof;
  const auto put16 = [&](size_t at, unsigned v) {
    bytes[at] = static_cast<std::byte>(v >> 8);
    bytes[at + 1] = static_cast<std::byte>(v & 0xFF);
  };
  put16(sof + 5, 1995);
  put16(sof + 7, 65498);
  // As the CMYK reproducer: 134 bytes of scan data after the start-of-scan header.
  size_t sos = sof;
  while (!(bytes[sos] == std::byte{0xFF} && bytes[sos + 1] == std::byte{0xDA}))
    ++sos;
  const size_t sos_length =
      (static_cast<size_t>(bytes[sos + 2]) << 8) | static_cast<size_t>(bytes[sos + 3]);
  bytes.resize(sos + 2 + sos_length + 134);
  try {
    image::decode_image(bytes, {});
    ADD_FAILURE() << "decoded";
  } catch (const image::DecodeError& e) {
    EXPECT_THAT(e.what(), HasSubstr(fmt::format("corrupt or truncated JPEG data: its header "
                                                "promises 65498×1995 pixels, more than its {} "
                                                "bytes can hold",
                                                bytes.size())));
  }
}

// The same policy on the libvips path: a 126-byte PNG whose header promises 10000×10000 pixels
// (its deflate stream cut after 200 bytes of two rows) fails as truncated, at once.
TEST(FuzzFindings, ATruncatedPngPromisingHundredMegapixelsFailsFast) {
  const std::vector<std::byte> bytes =
      read_bytes(kRegressions / "image" / "png_header_10000x10000_126_bytes.png");
  const long rss_before = peak_rss_kb();
  const auto start = std::chrono::steady_clock::now();
  try {
    image::decode_image(bytes, {});
    ADD_FAILURE() << "decoded";
  } catch (const image::DecodeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("corrupt or truncated PNG data"));
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
  EXPECT_LT(peak_rss_kb() - rss_before, 100 * 1024);  // kB: under 100 MB
}

// Found by pickle_fuzzer: a dict set into itself (its own memo entry) leaked under shared
// ownership (a cycle); the values now live in the unpickler's arena. Under `make test-asan`
// (leak checks on) this test fails if the cycle leaks again.
TEST(FuzzFindings, APickledDictHoldingItselfIsRefusedWithoutALeak) {
  const std::vector<std::byte> bytes =
      read_bytes(kRegressions / "pickle" / "self_containing_dict.pkl");
  try {
    model::read_state_dict_pickle(bytes, "archive/data.pkl");
    ADD_FAILURE() << "read";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("archive/data.pkl"));
  }
}

// Found by safetensors_fuzzer on its own seed: an F32 tensor of shape [0, 4] has no data, and
// copying its zero bytes passed a null pointer to memcpy (UB).
TEST(FuzzFindings, AnEmptyTensorWidensToNoValues) {
  testing::ScratchDir dir;
  const std::string header = R"({"e": {"dtype": "F32", "shape": [0, 4], "data_offsets": [0, 0]}})";
  std::string file(8, '\0');
  file[0] = static_cast<char>(header.size());
  testing::write_text_file(dir / "e.safetensors", file + header);
  const model::SafetensorsFile st(dir / "e.safetensors");
  EXPECT_TRUE(model::to_f32(st.tensors().at("e")).empty());
}

}  // namespace
}  // namespace deft
