// deft's decoder against Pillow's convert("RGB") on every format and mode it reads
// (tests/data/generate_images.py), byte for byte; and its refusals, each with its reason.
#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/decode.h"
#include "image_writer.h"
#include "ppm.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kImages = fs::path(DEFT_SOURCE_DIR) / "tests/data/images";

std::vector<std::byte> read_bytes(const fs::path& path) {
  const std::string text = testing::read_text_file(path);
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return {data, data + text.size()};
}

struct Fixture {
  std::string name, reference, exif_reference;
};

std::vector<Fixture> manifest() {
  std::ifstream in(kImages / "manifest.txt");
  std::vector<Fixture> fixtures;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    Fixture f;
    words >> f.name >> f.reference >> f.exif_reference;
    fixtures.push_back(f);
  }
  return fixtures;
}

// How many bytes differ, and the largest difference.
std::pair<size_t, int> compare(const preprocess::RgbImage& a, const preprocess::RgbImage& b) {
  size_t differ = 0;
  int largest = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    const int d = std::abs(int{a.data[i]} - int{b.data[i]});
    differ += d != 0;
    largest = std::max(largest, d);
  }
  return {differ, largest};
}

TEST(ImageDecode, EveryFormatAndModeEqualsPillowByteForByte) {
  const auto fixtures = manifest();
  ASSERT_EQ(fixtures.size(), 28U);
  for (const Fixture& f : fixtures) {
    SCOPED_TRACE(f.name);
    const preprocess::RgbImage expected = testing::read_ppm(kImages / f.reference);
    const preprocess::RgbImage got = image::decode_image(read_bytes(kImages / f.name), {});
    ASSERT_EQ(got.width, expected.width);
    ASSERT_EQ(got.height, expected.height);
    const auto [differ, largest] = compare(got, expected);
    EXPECT_EQ(differ, 0U) << "largest difference " << largest;
  }
}

TEST(ImageDecode, ShrinkOnLoadEqualsPillowsDraftByteForByte) {
  std::ifstream in(kImages / "shrink_manifest.txt");
  std::string name, reference;
  int scale = 0;
  int checked = 0;
  while (in >> name >> scale >> reference) {
    SCOPED_TRACE(fmt::format("{} at 1/{}", name, scale));
    const preprocess::RgbImage expected = testing::read_ppm(kImages / reference);
    const image::DecodeOptions options{
        .target_width = expected.width, .target_height = expected.height, .min_shrunk_ratio = 1.0};
    ASSERT_EQ(image::jpeg_shrink_factor(301, 203, options), scale);
    const preprocess::RgbImage got = image::decode_image(read_bytes(kImages / name), options);
    ASSERT_EQ(got.width, expected.width);
    ASSERT_EQ(got.height, expected.height);
    const auto [differ, largest] = compare(got, expected);
    EXPECT_EQ(differ, 0U) << "largest difference " << largest;
    ++checked;
  }
  EXPECT_EQ(checked, 6);
  // CMYK JPEGs are not shrunk: full size, Pillow's pixels.
  const preprocess::RgbImage cmyk =
      image::decode_image(read_bytes(kImages / "cmyk.jpg"),
                          {.target_width = 9, .target_height = 5, .min_shrunk_ratio = 1});
  const preprocess::RgbImage expected = testing::read_ppm(kImages / "cmyk.jpg.ppm");
  ASSERT_EQ(cmyk.width, 37);
  EXPECT_EQ(compare(cmyk, expected).first, 0U);
}

TEST(ImageDecode, ExifOrientationIsIgnoredByDefaultAndAppliedOnRequest) {
  // Ignored: EveryFormatAndModeEqualsPillowByteForByte compares these files as stored.
  // Applied: all seven turns and mirrors against Pillow's ImageOps.exif_transpose.
  int checked = 0;
  for (const Fixture& f : manifest()) {
    if (f.exif_reference.empty()) continue;
    SCOPED_TRACE(f.name);
    const preprocess::RgbImage expected = testing::read_ppm(kImages / f.exif_reference);
    const preprocess::RgbImage got =
        image::decode_image(read_bytes(kImages / f.name), {.apply_exif_orientation = true});
    ASSERT_EQ(got.width, expected.width);
    ASSERT_EQ(got.height, expected.height);
    EXPECT_EQ(compare(got, expected).first, 0U);
    ++checked;
  }
  EXPECT_EQ(checked, 7);
  const preprocess::RgbImage rotated = image::decode_image(read_bytes(kImages / "exif_rotated.jpg"),
                                                           {.apply_exif_orientation = true});
  EXPECT_EQ(rotated.width, 23);  // stored 37×23, shown turned
}

std::string reason(std::span<const std::byte> bytes, const image::DecodeOptions& options = {}) {
  try {
    image::decode_image(bytes, options);
  } catch (const image::DecodeError& e) {
    return e.what();
  }
  return "(decoded)";
}

std::span<const std::byte> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

TEST(ImageDecode, RefusalsSayWhy) {
  EXPECT_EQ(reason({}), "empty file");
  EXPECT_THAT(reason(as_bytes("hello, not an image")), HasSubstr("not an image deft reads"));
  for (const char* name : {"rgb.jpg", "progressive.jpg", "rgb.png", "lossy.webp", "rgb.tiff",
                           "animated.gif", "rgb.bmp"}) {
    SCOPED_TRACE(name);
    auto bytes = read_bytes(kImages / name);
    bytes.resize(bytes.size() * 2 / 5);  // inside the first frame of the GIF too
    EXPECT_THAT(reason(bytes),
                ::testing::AnyOf(HasSubstr("corrupt or truncated"), HasSubstr("not a readable")));
  }
  // Over the pixel limit: refused from the header, before any decoding.
  EXPECT_THAT(reason(read_bytes(kImages / "rgb.png"), {.max_pixels = 37 * 23 - 1}),
              HasSubstr("37×23 PNG is 851 pixels, over the limit of 850 (max_image_pixels)"));
  EXPECT_EQ(reason(read_bytes(kImages / "rgb.png"), {.max_pixels = 37 * 23}), "(decoded)");
}

TEST(ImageDecode, ADecodePastItsDeadlineFailsInsteadOfRunningOn) {
  // A deadline already passed: the check before (JPEG: after) the first strip stops the decode,
  // for libjpeg's path and for libvips's (PNG).
  testing::ScratchDir dir;
  for (const char* name : {"big.jpg", "big.png"}) {
    SCOPED_TRACE(name);
    testing::write_image(dir / name, 1500, 1200, 3, 5);
    const auto bytes = read_bytes(dir / name);
    const std::string format = std::string(name) == "big.jpg" ? "JPEG" : "PNG";
    EXPECT_THAT(reason(bytes, {.timeout_seconds = -1}),
                HasSubstr(format + " decode took over -1 s (decode_timeout)"));
    EXPECT_EQ(reason(bytes, {.timeout_seconds = 60}), "(decoded)");
  }
}

// The embedding pipeline decodes on several threads at once: libvips's pixels are computed on
// each calling thread, and every thread gets Pillow's pixels (the references of the test above)
// for every format libvips decodes, round after round.
TEST(ImageDecode, ThreadsDecodingAtOnceGetPillowsPixels) {
  std::vector<std::pair<std::vector<std::byte>, preprocess::RgbImage>> cases;
  for (const Fixture& f : manifest()) {
    std::vector<std::byte> bytes = read_bytes(kImages / f.name);
    if (image::sniff_format(bytes) == "JPEG") continue;  // libjpeg's path
    cases.emplace_back(std::move(bytes), testing::read_ppm(kImages / f.reference));
  }
  ASSERT_EQ(cases.size(), 17U);  // PNG, GIF, WebP, TIFF, BMP
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        for (const auto& [bytes, pillow] : cases) {
          const preprocess::RgbImage got = image::decode_image(bytes, {});
          if (got.width != pillow.width || got.height != pillow.height || got.data != pillow.data)
            ++wrong;
        }
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(ImageDecode, JpegShrinkFactorKeepsTheRatioToTheTarget) {
  const image::DecodeOptions to224{.target_width = 224, .target_height = 224};
  EXPECT_EQ(image::jpeg_shrink_factor(1024, 768, to224), 1);  // 512×384: 384 < 2×224
  EXPECT_EQ(image::jpeg_shrink_factor(2048, 1536, to224), 2);
  EXPECT_EQ(image::jpeg_shrink_factor(4000, 3000, to224), 4);  // 1000×750 ≥ 448
  EXPECT_EQ(image::jpeg_shrink_factor(8000, 8000, to224), 8);
  EXPECT_EQ(image::jpeg_shrink_factor(8000, 8000, {}), 1);  // off without a target
}

}  // namespace
}  // namespace deft
