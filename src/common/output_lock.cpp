#include "common/output_lock.h"

#include <string>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dead_run_debris.h"
#include "common/error.h"
#include "common/output_set.h"

namespace deft {

namespace fs = std::filesystem;

fs::path OutputLock::lock_path(const fs::path& output) {
  const fs::path absolute = fs::absolute(output);
  std::string name = absolute.filename().string();
  name.insert(0, 1, '.');
  name.append(".deft-lock");
  return absolute.parent_path() / name;
}

OutputLock::OutputLock(const fs::path& output) : path_(lock_path(output)) {
  std::error_code ec;
  fs::create_directories(path_.parent_path(), ec);
  // The holder removes the file when it is done, so a lock taken on a file that was removed
  // (or replaced) meanwhile is not the lock: take it again on the file now at the path.
  for (;;) {
    fd_ = UniqueFd(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd_.valid()) {
      const std::string reason = errno_text(errno);
      const fs::path folder =
          fs::absolute(path_.parent_path().empty() ? fs::path(".") : path_.parent_path());
      throw Error(ErrorKind::kRun,
                  fmt::format("cannot write in the output folder '{}' (for '{}'): {}",
                              folder.lexically_normal().string(), output.string(), reason),
                  "make the folder writable, or choose an output in a writable folder");
    }
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      char pid[32] = {};
      const ssize_t n = ::pread(fd_.get(), pid, sizeof pid - 1, 0);
      std::string holder = n > 0 ? std::string(pid, static_cast<size_t>(n)) : std::string("?");
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
        holder.pop_back();
      throw Error(ErrorKind::kRun,
                  fmt::format("'{}' is being written by another deft run already (pid {})",
                              output.string(), holder),
                  "wait for it to finish, or write to another output");
    }
    struct stat held {};
    struct stat now {};
    if (::fstat(fd_.get(), &held) == 0 && ::stat(path_.c_str(), &now) == 0 &&
        held.st_dev == now.st_dev && held.st_ino == now.st_ino) {
      break;
    }
  }
  const std::string mine = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_.get(), 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd_.get(), mine.data(), mine.size(), 0);
  }
  // The lock is ours: a killed run's interrupted commit is finished, then what killed runs
  // left beside this output goes.
  const fs::path folder = path_.parent_path().empty() ? fs::path(".") : path_.parent_path();
  OutputSet::complete_interrupted_commits(folder);
  remove_dead_run_debris(folder);
}

OutputLock::~OutputLock() {
  // Removed while still held (see the constructor): nothing is left beside the output.
  ::unlink(path_.c_str());
}

}  // namespace deft
