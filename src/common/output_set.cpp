#include "common/output_set.h"

#include <system_error>

#include <fmt/format.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/fault_injection.h"
#include "common/log.h"

namespace deft {

namespace fs = std::filesystem;

namespace {

fs::path backup_path_for(const fs::path& output) {
  return output.parent_path() /
         fmt::format(".{}.deft-old-{}", output.filename().string(), ::getpid());
}

fs::path folder_of(const fs::path& path) {
  return path.parent_path().empty() ? fs::path(".") : path.parent_path();
}

}  // namespace

OutputSet::~OutputSet() {
  if (committed_) return;
  std::error_code ec;
  for (const Entry& e : entries_) {
    if (!e.temporary.empty()) fs::remove(e.temporary, ec);
  }
}

void OutputSet::add(const fs::path& temporary, const fs::path& output) {
  DEFT_ASSERT(!committed_, "add to a committed output set");
  entries_.push_back({temporary, output, {}, false});  // the destructor removes it from here on
  flush_to_disk(temporary, false);
  fault::point("output finished");
}

void OutputSet::remove_on_commit(const fs::path& output) {
  DEFT_ASSERT(!committed_, "add to a committed output set");
  entries_.push_back({{}, output, {}, false});
}

void OutputSet::commit() {
  DEFT_ASSERT(!committed_, "commit an output set twice");
  fault::point("commit");
  std::error_code ec;
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    try {
      if (fs::exists(fs::symlink_status(e.output, ec))) {
        e.backup = backup_path_for(e.output);
        fs::rename(e.output, e.backup);
      }
      if (!e.temporary.empty()) fs::rename(e.temporary, e.output);
      e.placed = true;
    } catch (const fs::filesystem_error& error) {
      roll_back(i + 1);
      throw Error(ErrorKind::kRun,
                  fmt::format("cannot move the finished file into place at '{}': {}; the "
                              "previous outputs are left as they were",
                              e.output.string(), error.code().message()));
    }
  }
  committed_ = true;
  fault::point("committed");
  for (const Entry& e : entries_) {
    if (!e.backup.empty()) fs::remove(e.backup, ec);
  }
  for (const Entry& e : entries_)
    flush_to_disk(folder_of(e.output), true);  // durable renames
}

// Undoes the first `count` entries (the last may be half done), newest first, and removes the
// temporaries that never moved.
void OutputSet::roll_back(size_t count) noexcept {
  std::error_code ec;
  for (size_t i = count; i-- > 0;) {
    Entry& e = entries_[i];
    if (e.placed && !e.temporary.empty()) fs::remove(e.output, ec);
    if (!e.backup.empty() && fs::exists(e.backup, ec)) {
      fs::rename(e.backup, e.output, ec);
      if (ec) {
        log::warn("could not restore '{}' from '{}': {}", e.output.string(), e.backup.string(),
                  ec.message());
      }
    }
  }
  for (const Entry& e : entries_) {
    if (!e.temporary.empty()) fs::remove(e.temporary, ec);
  }
  committed_ = true;  // nothing left for the destructor
}

}  // namespace deft
