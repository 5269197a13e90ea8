#pragma once
// Helpers shared by the tests: a scratch directory and SQL run straight through DuckDB's C API
// (independent of deft's table reader/writer, so it can serve as the reference).

#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

#include "table/duckdb_handles.h"

namespace deft::testing {

// True in an AddressSanitizer build, where memory figures (shadow memory, quarantine) say
// nothing about deft's own: the peak-memory bounds are checked in the other builds only.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // Names of every entry in the directory, sorted (hidden files included).
  std::vector<std::string> entries() const;

 private:
  std::filesystem::path path_;
};

// Names of every entry in `folder`, sorted (hidden files included).
std::vector<std::string> directory_entries(const std::filesystem::path& folder);

// Runs `sql` and returns every row's columns rendered as text (NULL as "NULL"), in order.
std::vector<std::vector<std::string>> sql_rows(table::Database& db, const std::string& sql);
// Runs `sql` for its effect; fails the test with DuckDB's message on error.
void sql_exec(table::Database& db, const std::string& sql);
// 'path' as a SQL literal.
std::string quoted(const std::filesystem::path& path);
// `parquet`'s rows, in order, split into `parts` files folder/part-0.parquet … (part k holds
// rows [k·rows/parts, (k+1)·rows/parts)): the same table as a folder, for deft's folder reading.
void split_parquet(table::Database& db, const std::filesystem::path& parquet,
                   const std::filesystem::path& folder, uint64_t parts);
// One column (or SQL expression over the columns) of a parquet file as text, in file order.
std::vector<std::string> parquet_column(table::Database& db, const std::filesystem::path& parquet,
                                        const std::string& expression);

struct ProcessResult {
  int exit_code;  // the exit status, or 128 + signal number
  std::string out;
  std::string err;
  double peak_rss_mib = 0;  // the process's peak resident memory
};

// Runs a program to completion, capturing stdout and stderr. `env` replaces the whole
// environment when given; `cwd` is the working directory when not empty.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::vector<std::string>* env = nullptr,
                          const std::filesystem::path& cwd = {});

// Starts a program in the background and returns its pid (wait for it with waitpid). stdout
// and stderr go to `out` and `err` (/dev/null when empty); `env` and `cwd` as run_process.
pid_t start_process(const std::vector<std::string>& argv,
                    const std::vector<std::string>* env = nullptr,
                    const std::filesystem::path& cwd = {}, const std::filesystem::path& out = {},
                    const std::filesystem::path& err = {});

void write_text_file(const std::filesystem::path& path, const std::string& text);
std::string read_text_file(const std::filesystem::path& path);
// The value of a summary file's `key: value` line (mining_summary.txt, a round's summary
// copy); "(no key)" when no line starts with the key.
std::string summary_value(const std::filesystem::path& summary_file, const std::string& key);

// This CPU as Linux reports it (/proc/cpuinfo's first processor), independently of the CPU
// detection under test: its vendor_id, and whether its flags name `flag` ("amx_int8", …).
struct CpuInfo {
  std::string vendor;  // empty when /proc/cpuinfo cannot be read
  std::string flags;   // " flag flag … ": each flag between spaces
  bool has(const std::string& flag) const {
    return flags.find(" " + flag + " ") != std::string::npos;
  }
};
CpuInfo read_cpuinfo();

// The textbook distances, in double, written independently of src/index/: "cosine"
// (1 − a·b / (‖a‖‖b‖)), "euclidean" (‖a − b‖₂) or "manhattan" (‖a − b‖₁).
double textbook_distance(const std::string& metric, const float* a, const float* b, size_t dim);

#ifdef DEFT_BINARY
// The deft binary under test (DEFT_BINARY, set per test target), run to completion.
inline ProcessResult run_deft_binary(std::vector<std::string> args,
                                     const std::filesystem::path& cwd = {}) {
  args.insert(args.begin(), DEFT_BINARY);
  return run_process(args, nullptr, cwd);
}
#endif

}  // namespace deft::testing
