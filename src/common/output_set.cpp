#include "common/output_set.h"

#include <fstream>
#include <string_view>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/dead_run_debris.h"
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

constexpr std::string_view kJournalPrefix = ".deft-commit-";

// The journal of a commit in progress, beside the set's first output: `.deft-commit-<pid>`.
fs::path journal_path(const fs::path& folder, pid_t pid) {
  return folder / fmt::format("{}{}", kJournalPrefix, pid);
}

// Finishes one journal's renames, in the order commit() does them: an output not yet moved
// aside goes to its backup, the finished temporary takes its place (a temporary already gone
// was renamed before the kill). Then the backups go.
void roll_forward(const nlohmann::json& entries) {
  std::error_code ec;
  for (const nlohmann::json& e : entries) {
    const fs::path temporary = e.at("temporary").get<std::string>();
    const fs::path output = e.at("output").get<std::string>();
    const fs::path backup = e.at("backup").get<std::string>();
    const bool pending = temporary.empty() || fs::exists(temporary, ec);
    if (!pending) continue;
    if (fs::exists(fs::symlink_status(output, ec)) && !fs::exists(backup, ec))
      fs::rename(output, backup);
    if (!temporary.empty()) fs::rename(temporary, output);
  }
  for (const nlohmann::json& e : entries)
    fs::remove(fs::path(e.at("backup").get<std::string>()), ec);
}

}  // namespace

size_t OutputSet::complete_interrupted_commits(const fs::path& folder) {
  size_t completed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(kJournalPrefix, 0) != 0) continue;
    const pid_t writer = pid_in(std::string_view(name).substr(kJournalPrefix.size()));
    if (writer == 0 || process_exists(writer)) continue;
    try {
      std::ifstream in(it->path());
      const nlohmann::json journal = nlohmann::json::parse(in);
      roll_forward(journal.at("entries"));
      std::error_code remove_ec;
      fs::remove(it->path(), remove_ec);
      log::warn(
          "completed the outputs of a run killed while putting them in place (pid {}) in "
          "'{}'",
          writer, folder.string());
      ++completed;
    } catch (const std::exception& e) {  // a torn journal: its commit never began renaming
      log::warn("left '{}' as it is: {}", it->path().string(), e.what());
    }
  }
  return completed;
}

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
  // Every file is complete and flushed: a journal of the renames lets the next run that takes
  // this output's lock finish them if a kill lands between two of them (one rename needs none).
  const bool journaled = entries_.size() > 1;
  const fs::path journal =
      journaled ? journal_path(folder_of(entries_[0].output), ::getpid()) : fs::path();
  if (journaled) {
    nlohmann::json entries = nlohmann::json::array();
    for (const Entry& e : entries_) {
      entries.push_back({{"temporary", e.temporary.empty()  // a removal
                                           ? std::string()
                                           : fs::absolute(e.temporary).string()},
                         {"output", fs::absolute(e.output).string()},
                         {"backup", fs::absolute(backup_path_for(e.output)).string()}});
    }
    write_file_atomically(journal, nlohmann::json{{"entries", entries}}.dump() + "\n");
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    try {
      if (fs::exists(fs::symlink_status(e.output, ec))) {
        e.backup = backup_path_for(e.output);
        fs::rename(e.output, e.backup);
      }
      if (!e.temporary.empty()) fs::rename(e.temporary, e.output);
      e.placed = true;
      if (i + 1 < entries_.size()) fault::point("commit rename");
    } catch (const fs::filesystem_error& error) {
      roll_back(i + 1);
      if (journaled) fs::remove(journal, ec);
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
  if (journaled) fs::remove(journal, ec);
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
