// report.html as headless Chromium renders it after a real `deft run` of 131 targets: the DOM
// (after the page's script) holds the failure rows, the per-label table, the axis labels and
// the page navigation, shows 100 targets and hides the other 31, and `#filter=` narrows the
// list; a screenshot is left in the build folder (report-screenshot.png) to look at. Skipped
// where Debian's chromium (scripts/setup.sh installs it) is absent.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report_test_set.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kChromium = "/usr/bin/chromium";

testing::ProcessResult chromium(std::vector<std::string> args) {
  args.insert(args.begin(), {kChromium, "--headless", "--no-sandbox", "--disable-gpu",
                             "--enable-logging=stderr", "--v=0"});
  return testing::run_process(args);
}

TEST(ReportBrowser, DomHasFailuresLabelsAxesAndPagesAndTheScreenshotIsWritten) {
  if (!fs::exists(kChromium)) GTEST_SKIP() << kChromium << " is absent (scripts/setup.sh)";
  testing::ScratchDir dir;
  testing::write_report_set(dir.path(), 130);
  const auto r = testing::run_report_set(dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string url = "file://" + (dir / "run/report.html").string();

  const auto dom = chromium({"--dump-dom", url});
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_THAT(dom.err, Not(HasSubstr("CONSOLE")));  // no script error or message
  const std::string& html = dom.out;
  EXPECT_TRUE(
      testing::contains(html, fmt::format("<tr><td>targets</td><td>{}</td><td>images/missing.png",
                                          testing::kMissingTargetRow)));
  EXPECT_TRUE(testing::contains(
      html,
      fmt::format("<tr><td>pool</td><td>{}</td><td>images/corrupt.png", testing::kCorruptPoolRow)));
  EXPECT_TRUE(testing::contains(html, "<table class=\"labels\">"));
  EXPECT_TRUE(testing::contains(html, "<tr class=\"zero\"><td>SCRATCH</td>"));
  EXPECT_TRUE(testing::contains(html, ">distance</text>"));
  EXPECT_TRUE(testing::contains(html, ">pairs</text>"));
  // The script ran: one page shown, buttons for both pages, the filter visible.
  EXPECT_EQ(testing::occurrences(html, "<div class=\"target\">"), 100U);
  EXPECT_EQ(testing::occurrences(html, "<div class=\"target\" hidden=\"\">"), 31U);
  EXPECT_TRUE(
      testing::contains(html, "<button type=\"button\" data-page=\"1\" disabled=\"\">1</button>"));
  EXPECT_TRUE(testing::contains(html, "<button type=\"button\" data-page=\"2\">2</button>"));
  EXPECT_TRUE(testing::contains(html, "<span id=\"shown\">targets 1–100 of 131</span>"));
  EXPECT_EQ(testing::occurrences(html, "placeholder=\"filter by label or path\" hidden"), 0U);

  // A filter in the address: only the scratch target.
  const auto filtered = chromium({"--dump-dom", url + "#filter=SCRATCH"});
  ASSERT_EQ(filtered.exit_code, 0) << filtered.err;
  EXPECT_EQ(testing::occurrences(filtered.out, "<div class=\"target\">"), 1U);
  EXPECT_TRUE(testing::contains(filtered.out, "<span id=\"shown\">targets 1–1 of 1</span>"));
  const size_t shown = filtered.out.find("<div class=\"target\">");
  ASSERT_NE(shown, std::string::npos);
  EXPECT_TRUE(testing::contains(filtered.out.substr(shown, 600), "images/scratch.png\">"));

  const fs::path png = fs::path(DEFT_BUILD_DIR) / "report-screenshot.png";
  fs::remove(png);
  const auto shot = chromium({"--window-size=1280,2000", "--screenshot=" + png.string(), url});
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  const std::string bytes = testing::read_text_file(png);
  ASSERT_GT(bytes.size(), 1000U);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
}

}  // namespace
}  // namespace deft
