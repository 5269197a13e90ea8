#include "common/error.h"

#include <cstdio>
#include <cstdlib>

namespace deft {

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
      return kExitUsage;
    case ErrorKind::kInput:
    case ErrorKind::kRun:
      return kExitRunFailure;
  }
  return kExitRunFailure;
}

void assert_failed(const char* condition, const char* file, int line, const std::string& message) {
  std::fprintf(stderr, "deft: internal error: %s:%d: assertion '%s' failed: %s\n", file, line,
               condition, message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace deft
