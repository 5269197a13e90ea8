#include "embed/image_file.h"

#include <algorithm>
#include <cctype>
#include <cerrno>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/digest.h"
#include "common/file_descriptor.h"

namespace deft::embed {
namespace fs = std::filesystem;

namespace {

int64_t mtime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string not_regular(const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return "is a folder, not a file";
  if (S_ISFIFO(st.st_mode)) return "is a pipe (FIFO), not a file";
  if (S_ISSOCK(st.st_mode)) return "is a socket, not a file";
  return "is a device, not a file";
}

}  // namespace

std::string unsupported_location(std::string_view filepath) {
  if (filepath.starts_with("~")) {
    return "'~' is not expanded (no shell reads the table): write the home folder out, or make "
           "the path relative and set image_root";
  }
  const size_t colon = filepath.find("://");
  if (colon == std::string_view::npos || colon == 0) return "";
  const std::string_view scheme = filepath.substr(0, colon);
  const bool word = std::all_of(scheme.begin(), scheme.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
  if (!word) return "";
  if (scheme == "file") {
    return "file:// URLs are not read: write the path itself (without file://)";
  }
  return fmt::format(
      "{}:// is not supported: deft reads local files only (no network at run time); copy or "
      "mount the images and write local paths",
      scheme);
}

FileStat stat_regular_file(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  return {true, static_cast<int64_t>(st.st_size), mtime_ns(st)};
}

FileRead read_image_file(const fs::path& path) {
  FileRead read;
  const UniqueFd file(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!file.valid()) {
    const int e = errno;
    read.failure = e == ENOENT    ? std::string("no such file")
                   : e == EACCES  ? std::string("permission denied")
                   : e == ENOTDIR ? std::string("no such file (a parent is not a folder)")
                                  : fmt::format("cannot open: {}", errno_text(e));
    return read;
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    read.failure = fmt::format("cannot stat: {}", errno_text());
    return read;
  }
  if (!S_ISREG(st.st_mode)) {
    read.failure = not_regular(st);
    return read;
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxImageFileBytes) {
    read.failure =
        fmt::format("file of {} bytes is over the {} byte limit", st.st_size, kMaxImageFileBytes);
    return read;
  }
  read.bytes.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < read.bytes.size()) {
    const ssize_t n = ::read(file.get(), read.bytes.data() + done, read.bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      read.failure = fmt::format("read error: {}", errno_text());
      return read;
    }
    if (n == 0) break;  // shrank while reading: use what is there
    done += static_cast<size_t>(n);
  }
  read.bytes.resize(done);
  read.identity = {static_cast<int64_t>(st.st_size), mtime_ns(st),
                   xxh3_128_hex(read.bytes.data(), read.bytes.size())};
  return read;
}

}  // namespace deft::embed
