// deft's BICUBIC resize equals Pillow's byte for byte (fixtures written by Pillow 9.4 through
// tests/data/generate_tiny_models.py): 22 target sizes × 3 sources, up and down, odd, 1-wide.
#include "preprocess/pillow_resize.h"

#include <regex>

#include <gtest/gtest.h>

#include "ppm.h"

namespace deft {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(DEFT_SOURCE_DIR) / "tests/data/tiny";

// Both code paths: the AVX2 one (where the CPU has it) and the portable one.
class PillowResize : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { preprocess::use_portable_resize(GetParam()); }
  void TearDown() override { preprocess::use_portable_resize(false); }
};

TEST_P(PillowResize, EqualsPillowByteForByte) {
  const std::regex name(R"((\w+_\d+x\d+)_(\d+)x(\d+)\.ppm)");
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(kFixtures / "resize")) {
    std::smatch m;
    const std::string file = entry.path().filename().string();
    ASSERT_TRUE(std::regex_match(file, m, name)) << file;
    const preprocess::RgbImage source =
        testing::read_ppm(kFixtures / "images" / (m[1].str() + ".ppm"));
    const preprocess::RgbImage expected = testing::read_ppm(entry.path());
    const preprocess::RgbImage got =
        preprocess::pillow_resize_bicubic(source, std::stoi(m[2]), std::stoi(m[3]));
    ASSERT_EQ(got.width, expected.width) << file;
    ASSERT_EQ(got.height, expected.height) << file;
    size_t differing = 0;
    for (size_t i = 0; i < got.data.size(); ++i)
      differing += got.data[i] != expected.data[i];
    EXPECT_EQ(differing, 0U) << file << ": " << differing << " of " << got.data.size()
                             << " bytes differ";
    ++compared;
  }
  EXPECT_EQ(compared, 66);
}

INSTANTIATE_TEST_SUITE_P(CodePaths, PillowResize, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "Portable" : "Best"; });

TEST(PillowResizeCopy, SameSizeIsACopy) {
  preprocess::RgbImage image(3, 2);
  for (size_t i = 0; i < image.data.size(); ++i)
    image.data[i] = static_cast<uint8_t>(i * 40);
  EXPECT_EQ(preprocess::pillow_resize_bicubic(image, 3, 2).data, image.data);
}

}  // namespace
}  // namespace deft
