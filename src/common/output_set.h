#pragma once
// All-or-nothing output sets: the files one command writes together (the mined parquet, its
// pairs file and mining_summary.txt; an embedding parquet and its failures sidecar) are
// committed together. Each file is written whole to a hidden temporary beside its output and
// flushed; only when every one of them is complete does commit() rename them into place. A
// failure before that (a full disk, a bad row, a kill) leaves the previous set exactly as it
// was; a failure while renaming puts the previous files back.
//
//   OutputSet outputs;
//   table::write_value_columns(db, mined, columns, {.output_set = &outputs});
//   write_file_atomically(summary, text, &outputs);
//   outputs.remove_on_commit(stale_sidecar);   // an old file this set replaces by nothing
//   outputs.commit();                          // now all of them are in place
//
// A kill during commit() itself — renames in one folder, microseconds — leaves a mix until the
// next run that takes the output's lock (OutputLock): commit() first writes a journal of its
// renames (`.deft-commit-<pid>`), and that run finishes them (the new files were all complete
// before the first rename), then removes the old files kept beside as `.<name>.deft-old-<pid>`.

#include <cstddef>
#include <filesystem>
#include <vector>

namespace deft {

class OutputSet {
 public:
  OutputSet() = default;
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;
  ~OutputSet();  // an uncommitted set removes its temporaries; the old files are untouched

  // A finished temporary (from prepare_output) that becomes `output` at commit(). Flushes it
  // to disk now, so that commit() has only renames left.
  void add(const std::filesystem::path& temporary, const std::filesystem::path& output);
  // `output`, if it exists, is removed at commit() (and restored if the commit fails).
  void remove_on_commit(const std::filesystem::path& output);
  // Renames every temporary into place. Throws Error(kRun) after restoring the old files.
  void commit();

  // Finishes the commits in `folder` whose process was killed between two renames (their
  // journals); returns how many. OutputLock calls it once the lock is held.
  static size_t complete_interrupted_commits(const std::filesystem::path& folder);

 private:
  struct Entry {
    std::filesystem::path temporary;  // empty: a removal
    std::filesystem::path output;
    std::filesystem::path backup;  // the old file while committing (empty: none)
    bool placed = false;
  };
  void roll_back(size_t placed) noexcept;

  std::vector<Entry> entries_;
  bool committed_ = false;
};

}  // namespace deft
