#include "common/fault_injection.h"

#include <atomic>
#include <csignal>
#include <cstdlib>

namespace deft::fault {

void chunk_finished() {
  static const long kill_after = [] {
    const char* value = std::getenv("DEFT_FAULT_KILL_AFTER_CHUNKS");
    return value != nullptr ? std::strtol(value, nullptr, 10) : 0L;
  }();
  static std::atomic<long> finished{0};
  if (kill_after > 0 && finished.fetch_add(1) + 1 >= kill_after) std::raise(SIGKILL);
}

}  // namespace deft::fault
