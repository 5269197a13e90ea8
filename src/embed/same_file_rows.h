#pragma once
// Rows that name a file an earlier row names — `a.jpg`, `./a.jpg`, `sub/../a.jpg`, the same
// absolute path — are embedded once: the later rows get the earlier row's vector (and its
// failure, if it failed) instead of decoding the file again. Every row stays in the output,
// with its own columns (a file may carry several labels).
//
//   const SameFileRows same = SameFileRows::find(db, job.input, base);   // one pass over paths
//   if (auto first = same.first_row_of(row)) ...   // the earlier row naming this row's file
//   if (same.named_again(row)) ...                 // keep this row's vector for a later one
//
// Memory: about 60 bytes per distinct file during find(), then the repeated rows only.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <unordered_map>

namespace deft::table {
class Database;
}

namespace deft::embed {

class SameFileRows {
 public:
  // Reads the filepath column of `input` (every row, in order), resolving relative paths
  // against `base` as the embedding does.
  static SameFileRows find(table::Database& db, const std::filesystem::path& input,
                           const std::filesystem::path& base);

  std::optional<uint64_t> first_row_of(uint64_t row) const;
  // How many later rows name this row's file (0 for most rows).
  uint64_t times_named_again(uint64_t row) const;
  // Rows that name an earlier row's file.
  uint64_t count() const { return first_row_of_.size(); }

 private:
  std::unordered_map<uint64_t, uint64_t> first_row_of_;  // later row → first row
  std::unordered_map<uint64_t, uint64_t> repeats_;       // first row → later rows naming it
};

}  // namespace deft::embed
