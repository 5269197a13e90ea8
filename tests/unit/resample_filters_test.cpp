// Every PIL filter a Hugging Face processor can name equals Pillow 9.4 byte for byte: 22 target
// sizes (up, down, odd, 1-pixel) from two source images, written by Pillow itself
// (tests/data/generate_published_models.py, CTest fixture `published_models`).
#include <regex>

#include <gtest/gtest.h>

#include "ppm.h"
#include "preprocess/pillow_resize.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using preprocess::Resample;

class ResampleFilter : public ::testing::TestWithParam<std::tuple<Resample, bool>> {
 protected:
  void SetUp() override { preprocess::use_portable_resize(std::get<1>(GetParam())); }
  void TearDown() override { preprocess::use_portable_resize(false); }
};

TEST_P(ResampleFilter, EqualsPillowByteForByte) {
  const Resample resample = std::get<0>(GetParam());
  const fs::path folder = fs::path(DEFT_BUILD_DIR) / "tests/published/resize" /
                          std::to_string(static_cast<int>(resample));
  const std::regex name(R"((\w+_\d+x\d+)_(\d+)x(\d+)\.ppm)");
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    std::smatch m;
    const std::string file = entry.path().filename().string();
    ASSERT_TRUE(std::regex_match(file, m, name)) << file;
    const preprocess::RgbImage source = testing::read_ppm(
        fs::path(DEFT_SOURCE_DIR) / "tests/data/tiny/images" / (m[1].str() + ".ppm"));
    const preprocess::RgbImage expected = testing::read_ppm(entry.path());
    const preprocess::RgbImage got =
        preprocess::pillow_resize(source, std::stoi(m[2]), std::stoi(m[3]), resample);
    ASSERT_EQ(got.width, expected.width) << file;
    ASSERT_EQ(got.height, expected.height) << file;
    size_t differing = 0;
    for (size_t i = 0; i < got.data.size(); ++i)
      differing += got.data[i] != expected.data[i];
    EXPECT_EQ(differing, 0U) << preprocess::resample_name(resample) << " " << file << ": "
                             << differing << " of " << got.data.size() << " bytes differ";
    ++compared;
  }
  EXPECT_EQ(compared, 44);  // 22 sizes × 2 sources
}

INSTANTIATE_TEST_SUITE_P(
    Pillow, ResampleFilter,
    ::testing::Combine(::testing::Values(Resample::kNearest, Resample::kLanczos,
                                         Resample::kBilinear, Resample::kBicubic, Resample::kBox,
                                         Resample::kHamming),
                       ::testing::Bool()),
    [](const auto& info) {
      return std::string(preprocess::resample_name(std::get<0>(info.param))) +
             (std::get<1>(info.param) ? "_portable" : "_best");
    });

TEST(ResampleNumbers, ArePilsAndNothingElse) {
  EXPECT_EQ(preprocess::resample_from_pil(0), Resample::kNearest);
  EXPECT_EQ(preprocess::resample_from_pil(1), Resample::kLanczos);
  EXPECT_EQ(preprocess::resample_from_pil(2), Resample::kBilinear);
  EXPECT_EQ(preprocess::resample_from_pil(3), Resample::kBicubic);
  EXPECT_EQ(preprocess::resample_from_pil(4), Resample::kBox);
  EXPECT_EQ(preprocess::resample_from_pil(5), Resample::kHamming);
  EXPECT_EQ(preprocess::resample_from_pil(6), std::nullopt);
  EXPECT_EQ(preprocess::resample_from_pil(-1), std::nullopt);
}

}  // namespace
}  // namespace deft
