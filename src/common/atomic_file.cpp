#include "common/atomic_file.h"

#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "common/error.h"

namespace deft {

namespace fs = std::filesystem;

void write_file_atomically(const fs::path& path, std::string_view contents) {
  const fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  const fs::path temporary =
      parent / fmt::format(".{}.{}.deft-tmp", path.filename().string(), ::getpid());
  auto fail = [&](std::string_view what) {
    const std::string reason = std::system_category().message(errno);
    fs::remove(temporary, ec);
    throw Error(ErrorKind::kRun, fmt::format("cannot {} '{}': {}", what, path.string(), reason));
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("create");
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail("write");
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("flush");
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) fail("move into place");
}

}  // namespace deft
