#include "common/atomic_file.h"

#include <atomic>
#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fault_injection.h"
#include "common/file_descriptor.h"
#include "common/output_set.h"

namespace deft {

namespace fs = std::filesystem;

namespace {

fs::path directory_of(const fs::path& path) {
  return path.parent_path().empty() ? fs::path(".") : path.parent_path();
}

}  // namespace

void flush_to_disk(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) {
    throw Error(ErrorKind::kRun,
                fmt::format("cannot open '{}' to flush it: {}", path.string(), errno_text()));
  }
  const int rc = ::fsync(fd);
  const std::string reason = rc != 0 ? errno_text() : std::string();
  ::close(fd);
  // Some filesystems refuse fsync on directories; the rename is still atomic there.
  if (rc != 0 && !directory) {
    throw Error(ErrorKind::kRun,
                fmt::format("cannot flush '{}' to disk: {}", path.string(), reason));
  }
}

fs::path prepare_output(const fs::path& output) {
  if (output.filename().empty()) {
    throw Error(ErrorKind::kUsage,
                fmt::format("output '{}' names a directory, not a file", output.string()));
  }
  const fs::path parent = directory_of(output);
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) {
    throw Error(ErrorKind::kRun, fmt::format("cannot create the output directory '{}': {}",
                                             parent.string(), ec.message()));
  }
  if (fs::is_directory(output)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("output '{}' is an existing directory, not a file", output.string()));
  }
  static std::atomic<uint64_t> counter{0};
  return parent / fmt::format(".{}.{}-{}.deft-tmp", output.filename().string(), ::getpid(),
                              counter.fetch_add(1));
}

void move_into_place(const fs::path& temporary, const fs::path& output) {
  std::error_code ec;
  try {
    flush_to_disk(temporary, false);
    fault::point("move into place");
    fs::rename(temporary, output);
  } catch (const fs::filesystem_error& e) {
    fs::remove(temporary, ec);
    throw Error(ErrorKind::kRun, fmt::format("cannot move the finished file into place at '{}': {}",
                                             output.string(), e.code().message()));
  } catch (...) {
    fs::remove(temporary, ec);
    throw;
  }
  flush_to_disk(directory_of(output), true);  // make the rename itself durable
}

void write_file_atomically(const fs::path& path, std::string_view contents, OutputSet* set) {
  const fs::path temporary = prepare_output(path);
  auto fail = [&](std::string_view what) {
    const std::string reason = errno_text();
    std::error_code ec;
    fs::remove(temporary, ec);
    throw Error(ErrorKind::kRun, fmt::format("cannot {} '{}': {}", what, path.string(), reason));
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("create");
  if (!write_all(fd, contents.data(), contents.size())) {
    ::close(fd);
    fail("write");
  }
  if (::close(fd) != 0) fail("write");
  if (set != nullptr) {
    set->add(temporary, path);
  } else {
    move_into_place(temporary, path);
  }
}

bool write_all(int fd, const void* data, size_t size) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {
      errno = EIO;  // a write that makes no progress
      return false;
    }
    bytes += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace deft
