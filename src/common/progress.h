#pragma once
// Progress of a long run, for people: on a terminal a live bar (done/total, images/s, ETA),
// elsewhere a log line every 10 seconds; nothing with --quiet. Writes to the log sink.
//
//   Progress progress(total_rows, "embedding");
//   progress.advance(n);     // cheap; redraws at most 5 times a second
//   progress.finish();       // clears the bar

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace deft {

struct ProgressOptions {
  std::optional<bool> bar;  // unset: a bar when the log goes to a terminal, else log lines
  std::chrono::milliseconds redraw_every{200};
  std::chrono::milliseconds log_every{10'000};
};

class Progress {
 public:
  Progress(uint64_t total, std::string what, const ProgressOptions& options = {});
  ~Progress() { finish(); }
  void advance(uint64_t rows);
  // Rows counted as done without work (resumed chunks); they do not count towards the rate.
  void skip(uint64_t rows);
  void finish();
  double seconds() const;

 private:
  void draw();

  using Clock = std::chrono::steady_clock;
  uint64_t total_;
  std::string what_;
  uint64_t done_ = 0;
  uint64_t skipped_ = 0;
  bool terminal_;
  std::chrono::milliseconds interval_;
  bool finished_ = false;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_draw_ = start_;
};

// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace deft
