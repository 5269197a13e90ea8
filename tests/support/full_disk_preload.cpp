// A full disk for one process, for the fault tests: LD_PRELOAD this library and every write to
// a file whose path contains DEFT_TEST_FULL_DISK_MATCH fails with ENOSPC once
// DEFT_TEST_FULL_DISK_AFTER bytes (default 0) have been written to such files — through
// write, pwrite and pwrite64, which both deft's own writers and DuckDB's use. The failure is
// the kernel's errno, so every error path above it runs as on a real full disk.
//
//   LD_PRELOAD=libdeft_full_disk.so DEFT_TEST_FULL_DISK_MATCH=/out/ deft mine ...

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <dlfcn.h>
#include <sys/types.h>
#include <unistd.h>

namespace {

const char* match() {
  static const char* m = std::getenv("DEFT_TEST_FULL_DISK_MATCH");
  return m;
}

long long budget() {
  static const long long b = [] {
    const char* v = std::getenv("DEFT_TEST_FULL_DISK_AFTER");
    return v != nullptr ? std::atoll(v) : 0LL;
  }();
  return b;
}

std::atomic<long long> written{0};

bool matches(int fd) {
  if (match() == nullptr || *match() == '\0') return false;
  char link[64];
  char path[PATH_MAX + 1];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(link, path, PATH_MAX);
  if (n <= 0) return false;
  path[n] = '\0';
  return std::strstr(path, match()) != nullptr;
}

// True when this write must fail; otherwise counts its bytes.
bool full(int fd, size_t count) {
  if (!matches(fd)) return false;
  if (written.load() + static_cast<long long>(count) > budget()) return true;
  written += static_cast<long long>(count);
  return false;
}

template <typename F>
F next(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t count) {
  static const auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  if (full(fd, count)) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, count);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static const auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  if (full(fd, count)) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
  static const auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  if (full(fd, count)) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, count, offset);
}

}  // extern "C"
