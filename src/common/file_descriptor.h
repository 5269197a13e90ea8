#pragma once
// POSIX file descriptors: owned (closed on destruction), written in full, errors as text.
//
//   UniqueFd file(::open(path, O_RDONLY | O_CLOEXEC));
//   if (!file.valid()) ...errno...
//   if (!write_all(file.get(), data, size)) ...errno...

#include <cerrno>
#include <cstddef>
#include <string>
#include <system_error>
#include <utility>

#include <unistd.h>

namespace deft {

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_;
};

// The system's text for an errno value (thread-safe, unlike strerror).
inline std::string errno_text(int error = errno) {
  return std::system_category().message(error);
}

// Writes every byte, retrying short writes and EINTR; false with errno set on failure.
bool write_all(int fd, const void* data, size_t size);

}  // namespace deft
