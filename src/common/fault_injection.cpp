#include "common/fault_injection.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

namespace deft::fault {
namespace {

long number_from_env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtol(value, nullptr, 10) : 0L;
}

struct Settings {
  const char* trace = std::getenv("DEFT_FAULT_TRACE");
  long kill_at = number_from_env("DEFT_FAULT_KILL_AT");
  long pause_at = number_from_env("DEFT_FAULT_PAUSE_AT");
  const char* pause_file = std::getenv("DEFT_FAULT_PAUSE_FILE");
  long kill_after_chunks = number_from_env("DEFT_FAULT_KILL_AFTER_CHUNKS");
  bool any = trace != nullptr || kill_at > 0 || (pause_at > 0 && pause_file != nullptr);
};

const Settings& settings() {
  static const Settings s;
  return s;
}

void append_trace(const char* path, const char* what) {
  // O_APPEND with one write per line: whole lines even from several threads.
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const std::string line = std::string(what) + "\n";
  [[maybe_unused]] const ssize_t n = ::write(fd, line.data(), line.size());
  ::close(fd);
}

void hold(const char* release) {
  const std::string paused = std::string(release) + ".paused";
  const int fd = ::open(paused.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  while (!std::filesystem::exists(release))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace

void point(const char* what) {
  const Settings& s = settings();
  if (!s.any) return;
  static std::atomic<long> reached{0};
  static std::mutex trace_order;
  long n = 0;
  if (s.trace != nullptr) {
    // Numbered and traced together: line N of the trace is the N-th point.
    const std::lock_guard lock(trace_order);
    n = reached.fetch_add(1) + 1;
    append_trace(s.trace, what);
  } else {
    n = reached.fetch_add(1) + 1;
  }
  if (n == s.kill_at) std::raise(SIGKILL);
  if (n == s.pause_at && s.pause_file != nullptr) hold(s.pause_file);
}

void chunk_finished() {
  point("chunk finished");
  static std::atomic<long> finished{0};
  const long kill_after = settings().kill_after_chunks;
  if (kill_after > 0 && finished.fetch_add(1) + 1 >= kill_after) std::raise(SIGKILL);
}

}  // namespace deft::fault
