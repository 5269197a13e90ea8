#include "common/progress.h"

#include <cmath>
#include <iostream>

#include <fmt/format.h>
#include <unistd.h>

#include "common/fault_injection.h"
#include "common/log.h"

namespace deft {

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(std::max(seconds, 0.0)));
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

Progress::Progress(uint64_t total, std::string what, const ProgressOptions& options)
    : total_(total),
      what_(std::move(what)),
      terminal_(
          options.bar.value_or(log::sink().stream == &std::cerr && ::isatty(STDERR_FILENO) != 0)),
      interval_(terminal_ ? options.redraw_every : options.log_every) {}

double Progress::seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

void Progress::skip(uint64_t rows) {
  done_ += rows;
  skipped_ += rows;
}

void Progress::advance(uint64_t rows) {
  fault::point(what_.c_str());
  done_ += rows;
  const auto now = Clock::now();
  if (now - last_draw_ >= interval_) {
    last_draw_ = now;
    draw();
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (terminal_ && !log::sink().quiet) *log::sink().stream << "\r\033[K" << std::flush;
}

void Progress::draw() {
  if (log::sink().quiet) return;
  const double elapsed = seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done_ - skipped_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done_, total_)) / rate : 0;
  const std::string numbers =
      fmt::format("{}/{} images  {:.1f} img/s  ETA {}", done_, total_, rate, format_duration(eta));
  if (!terminal_) {
    log::info("{}: {}", what_, numbers);
    return;
  }
  constexpr int kWidth = 30;
  const int filled = total_ == 0 ? kWidth : static_cast<int>(kWidth * done_ / total_);
  *log::sink().stream << "\r\033[K" << what_ << " [" << std::string(filled, '#')
                      << std::string(kWidth - filled, '.') << "] " << numbers << std::flush;
}

}  // namespace deft
