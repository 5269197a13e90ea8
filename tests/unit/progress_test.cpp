// The progress display of long runs: log lines off a terminal, a redrawn bar on one, nothing
// with --quiet; resumed rows count as done but not towards the rate.
#include "common/progress.h"

#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/log.h"

namespace deft {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Points the log at a string for one test.
class CapturedLog {
 public:
  explicit CapturedLog(bool quiet = false) : saved_(log::sink()) {
    log::sink().stream = &text_;
    log::sink().quiet = quiet;
  }
  ~CapturedLog() { log::sink() = saved_; }
  std::string text() const { return text_.str(); }

 private:
  log::Sink saved_;
  std::ostringstream text_;
};

constexpr ProgressOptions kEveryCall{.redraw_every = std::chrono::milliseconds(0),
                                     .log_every = std::chrono::milliseconds(0)};

TEST(Progress, OffATerminalLogsOneLinePerInterval) {
  CapturedLog log;
  {
    ProgressOptions options = kEveryCall;
    options.bar = false;
    Progress progress(200, "embedding", options);
    progress.skip(50);  // resumed: done, but not part of the rate
    progress.advance(10);
    progress.advance(40);
  }
  EXPECT_THAT(log.text(),
              MatchesRegex("embedding: 60/200 images  [0-9.]+ img/s  ETA [0-9hms]+\n"
                           "embedding: 100/200 images  [0-9.]+ img/s  ETA [0-9hms]+\n"));
}

TEST(Progress, NothingBetweenIntervals) {
  CapturedLog log;
  Progress progress(100, "embedding", {.bar = false});  // every 10 s
  progress.advance(60);
  progress.finish();
  EXPECT_EQ(log.text(), "");
}

TEST(Progress, OnATerminalRedrawsABarAndClearsIt) {
  CapturedLog log;
  {
    ProgressOptions options = kEveryCall;
    options.bar = true;
    Progress progress(100, "embedding", options);
    progress.advance(50);
  }
  const std::string bar = "embedding [" + std::string(15, '#') + std::string(15, '.') + "] ";
  EXPECT_THAT(log.text(), HasSubstr("\r\033[K" + bar + "50/100 images  "));
  EXPECT_THAT(log.text(), ContainsRegex(" img/s  ETA [0-9hms]+"));
  EXPECT_EQ(log.text().substr(0, 4), "\r\033[K");
  EXPECT_EQ(log.text().substr(log.text().size() - 4), "\r\033[K");  // finish() clears the bar
}

TEST(Progress, QuietShowsNothing) {
  CapturedLog log(/*quiet=*/true);
  {
    ProgressOptions options = kEveryCall;
    options.bar = true;
    Progress progress(100, "embedding", options);
    progress.advance(100);
  }
  EXPECT_EQ(log.text(), "");
}

TEST(Progress, DurationsReadLikeAClock) {
  EXPECT_EQ(format_duration(12.4), "12s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(-3), "0s");
}

}  // namespace
}  // namespace deft
