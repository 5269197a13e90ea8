// visualize=true's pieces in-process: Python's random.sample reproduced bit for bit (checked
// against /usr/bin/python3 itself), and the count chart, whose bars are read back from the
// pixels.
#include <sstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "select/python_random.h"
#include "select/visualize.h"
#include "test_support.h"

namespace deft::select {
namespace {

// One generator, several draws in a row, as the reference's sheets share one Random(42):
// small populations (the pool method) and a large one (the set method).
TEST(PythonRandom, SamplesWhatCPythonSamples) {
  const std::vector<std::pair<size_t, size_t>> draws = {
      {10, 5}, {3, 3}, {1000, 5}, {30, 7}, {1, 1}};
  std::string script = "import random\nr = random.Random(42)\n";
  for (const auto& [n, k] : draws)
    script += fmt::format("print(' '.join(map(str, r.sample(range({}), {}))))\n", n, k);
  testing::ScratchDir dir;
  testing::write_text_file(dir / "draw.py", script);
  const auto python = testing::run_process({"/usr/bin/python3", (dir / "draw.py").string()});
  ASSERT_EQ(python.exit_code, 0) << python.err;
  std::istringstream lines(python.out);
  PythonRandom rng(42);
  for (const auto& [n, k] : draws) {
    std::string line;
    std::getline(lines, line);
    const std::vector<size_t> ours = rng.sample(n, k);
    std::string text;
    for (size_t v : ours)
      text += (text.empty() ? "" : " ") + std::to_string(v);
    EXPECT_EQ(text, line) << "sample(range(" << n << "), " << k << ")";
  }
}

// The bars, found from the pixels alone: columns of the target blue or result orange on the
// row above the baseline (the lowest row holding either), each bar's height counted up its
// middle column. Heights must be the values on one scale (±1 pixel of rounding).
std::vector<int> bar_heights(const image::Canvas& c, image::Rgb colour) {
  int bottom = -1;
  for (int y = c.height() - 1; y >= 0 && bottom < 0; --y)
    for (int x = 0; x < c.width(); ++x)
      if (c.at(x, y) == kTargetBlue || c.at(x, y) == kResultOrange) {
        bottom = y;
        break;
      }
  std::vector<int> heights;
  for (int x = 0; x < c.width(); ++x) {
    if (!(c.at(x, bottom) == colour)) continue;
    const int start = x;
    while (x < c.width() && c.at(x, bottom) == colour)
      ++x;
    const int middle = (start + x) / 2;
    int h = 0;
    while (bottom - h >= 0 && c.at(middle, bottom - h) == colour)
      ++h;
    heights.push_back(h);
  }
  return heights;
}

TEST(CountChart, BarHeightsReadBackFromThePixelsAreTheValues) {
  const std::vector<std::string> classes = {"Bus", "bicycle", "car", "person"};
  const std::vector<size_t> target = {12, 3, 40, 25}, result = {6, 0, 20, 31};
  const image::TextSize size = count_chart_size(classes.size());
  EXPECT_EQ(size.width, 960);  // 120 × max(8, 0.6 × 4 + 4)
  EXPECT_EQ(size.height, 600);
  EXPECT_EQ(count_chart_size(20).width, 1920);  // 120 × (0.6 × 20 + 4)
  image::Canvas canvas(size.width, size.height, image::kWhite);
  const ChartRecord record =
      draw_count_chart("Image Count per class", "image count", classes, target, result, canvas);
  const std::vector<int> blue = bar_heights(canvas, kTargetBlue);
  const std::vector<int> orange = bar_heights(canvas, kResultOrange);
  ASSERT_EQ(blue.size(), 4U);
  ASSERT_EQ(orange.size(), 3U);            // the 0 bar has no pixels
  const double per_unit = blue[2] / 40.0;  // the tallest bar sets the scale
  for (size_t i = 0; i < 4; ++i)
    EXPECT_NEAR(blue[i], target[i] * per_unit, 1.0) << classes[i];
  EXPECT_NEAR(orange[0], 6 * per_unit, 1.0);
  EXPECT_NEAR(orange[1], 20 * per_unit, 1.0);
  EXPECT_NEAR(orange[2], 31 * per_unit, 1.0);
  // The drawing layer's own record agrees with the pixels.
  EXPECT_EQ(record.target[2].value, 40U);
  EXPECT_EQ(record.baseline - record.target[2].top, blue[2]);
}

}  // namespace
}  // namespace deft::select
