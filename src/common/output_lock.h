#pragma once
// One writer at a time per output: an advisory lock (flock) on a hidden lock file beside the
// output, held for the whole run. A second run on the same output fails at once, naming the
// process that holds it; a lock left by a killed process is released by the kernel, so the
// next run simply takes it. The lock file holds the holder's pid and is removed when the run
// ends; one left by a killed run is harmless.
//
//   OutputLock lock(job.output);   // throws Error(kRun) "… is being written by … (pid N)"

#include <filesystem>

#include "common/file_descriptor.h"

namespace deft {

class OutputLock {
 public:
  explicit OutputLock(const std::filesystem::path& output);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  // The lock file of `output`: `.<name>.deft-lock` in its folder.
  static std::filesystem::path lock_path(const std::filesystem::path& output);

 private:
  std::filesystem::path path_;
  UniqueFd fd_;  // closing it (after the unlink) releases the lock
};

}  // namespace deft
