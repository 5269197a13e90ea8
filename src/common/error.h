#pragma once
// One error type for everything a user can trigger (bad input, bad config, missing files),
// and DEFT_ASSERT for programmer invariants. The CLI catches deft::Error once, prints one line
// (plus a hint when there is one) and maps the kind to an exit code.
//
//   throw deft::Error(deft::ErrorKind::kInput, fmt::format("'{}': no column 'filepath'", path),
//                     "rename the column that holds image paths to filepath");

#include <stdexcept>
#include <string>

namespace deft {

enum class ErrorKind {
  kUsage,  // command line or spec: unknown key, missing value, wrong type (exit 2)
  kInput,  // a file the user gave cannot be used: missing, malformed, wrong columns (exit 1)
  kRun,    // the run failed while working: write error, disk full, a stage failed (exit 1)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message, std::string hint = {})
      : std::runtime_error(message), kind_(kind), hint_(std::move(hint)) {}

  ErrorKind kind() const { return kind_; }
  const std::string& hint() const { return hint_; }

 private:
  ErrorKind kind_;
  std::string hint_;
};

// Exit codes of the deft executable (documented in the README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRunFailure = 1;
inline constexpr int kExitUsage = 2;

int exit_code_for(ErrorKind kind);

[[noreturn]] void assert_failed(const char* condition, const char* file, int line,
                                const std::string& message);

}  // namespace deft

// Invariants only: user input must never be able to trigger this (that is deft::Error's job).
#define DEFT_ASSERT(condition, message)                                 \
  do {                                                                  \
    if (!(condition)) {                                                 \
      ::deft::assert_failed(#condition, __FILE__, __LINE__, (message)); \
    }                                                                   \
  } while (false)
