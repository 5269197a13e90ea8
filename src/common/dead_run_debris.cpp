#include "common/dead_run_debris.h"

#include <cerrno>
#include <charconv>
#include <string_view>
#include <system_error>

#include <signal.h>

namespace deft {

namespace fs = std::filesystem;

pid_t pid_in(std::string_view digits) {
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  return ec == std::errc() && end == digits.data() + digits.size() && pid > 0 ? pid : 0;
}

pid_t debris_writer(const std::string& name) {
  if (name.empty() || name[0] != '.') return 0;
  const std::string_view n(name);
  // .<name>.<pid>-<n>.deft-tmp (atomic_file.cpp's prepare_output)
  constexpr std::string_view kTmp = ".deft-tmp";
  if (n.size() > kTmp.size() && n.substr(n.size() - kTmp.size()) == kTmp) {
    const std::string_view stem = n.substr(0, n.size() - kTmp.size());
    const size_t dash = stem.rfind('-');
    const size_t dot = stem.rfind('.', dash);
    if (dash == std::string_view::npos || dot == std::string_view::npos || dot == 0) return 0;
    const std::string_view counter = stem.substr(dash + 1);
    if (counter.empty() || counter.find_first_not_of("0123456789") != std::string_view::npos)
      return 0;
    return pid_in(stem.substr(dot + 1, dash - dot - 1));
  }
  // .<name>.deft-old-<pid> (output_set.cpp's backups)
  constexpr std::string_view kOld = ".deft-old-";
  const size_t old = n.rfind(kOld);
  if (old != std::string_view::npos && old > 0) return pid_in(n.substr(old + kOld.size()));
  return 0;
}

bool process_exists(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

size_t remove_dead_run_debris(const fs::path& folder) {
  size_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const pid_t writer = debris_writer(it->path().filename().string());
    if (writer == 0 || process_exists(writer)) continue;
    std::error_code remove_ec;  // a folder too: `deft run` stages its run folder this way
    if (fs::remove_all(it->path(), remove_ec) > 0) ++removed;
  }
  return removed;
}

}  // namespace deft
