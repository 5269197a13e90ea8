#pragma once
// The mining history: a folder that remembers what every earlier round mined, so that a round
// never mines an item twice without saying so (history=PATH on `deft mine`, `deft select`,
// `deft run`). It holds one parquet per round (`round_<NNNN>.parquet`: filepath, group_id,
// target_filepath, distance, round, label), a copy of each round's summary, and the manifest
// (history/manifest.h) with the sha256 of each of those files.
//
//   MiningHistory history(db, settings, group_column, pool_encoder);   // locked and verified
//   groups = scan_pool_groups(db, ..., history.mined_groups());        // rows to leave out
//   ... the round runs and commits its own outputs ...
//   history.append(db, record, rows, summary_text, "txt");            // all or nothing
//
// Before a round: the manifest's hashes are checked (a modified or missing artifact stops the
// round, naming it, unless history_repair rebuilds the manifest from the files and says what
// changed), rounds must be 1..N, and the history's encoder and group column must be this
// round's. One round at a time: the folder is locked for the whole round.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/output_lock.h"
#include "history/manifest.h"
#include "model/fingerprint.h"
#include "table/duckdb_handles.h"

namespace deft::history {

// The history keys of `deft mine`, `deft select` and `deft run`.
struct HistorySettings {
  std::filesystem::path folder;    // empty: no history
  std::string group_column;        // "": the first of source_group_id, atomic_sample_id, filepath
  bool exclude = true;             // exclude_history: leave out what earlier rounds mined
  bool repair = false;             // history_repair: rebuild the manifest from the files
  double max_pool_fraction = 1.0;  // cap on the cumulative total mined, as a share of the pool
  std::string command;             // what runs the round (mine, select, run), for the manifest
  bool active() const { return !folder.empty(); }
};

// One row per item the round mined.
struct RoundRows {
  std::vector<std::string> filepath;
  std::vector<std::string> group;
  std::vector<std::string> target;
  std::vector<double> distance;
  std::vector<std::string> label;  // kNoLabel where none
};

class MiningHistory {
 public:
  // Creates the folder when missing, locks it, verifies (or repairs) it and checks it against
  // this round: `group_column` (resolved) and the pool's encoder. Throws Error naming the file
  // and what is wrong.
  MiningHistory(table::Database& db, const HistorySettings& settings,
                const std::string& group_column,
                const std::optional<model::EncoderFingerprint>& pool_encoder);

  // Under mpirun, every rank but 0, once rank 0 holds the history (locked, verified,
  // repaired): its manifest read for the groups the rounds mined, nothing checked or written.
  struct Follow {};
  MiningHistory(table::Database& db, const HistorySettings& settings, Follow);

  const std::filesystem::path& folder() const { return folder_; }
  int round() const { return static_cast<int>(manifest_.rounds.size()) + 1; }
  const Manifest& manifest() const { return manifest_; }
  // Every group id an earlier round mined.
  const std::unordered_set<std::string>& mined_groups() const { return mined_groups_; }
  // Rows over every earlier round.
  uint64_t mined_so_far() const { return mined_so_far_; }
  // What history_repair changed before this round (empty: nothing), one line each.
  const std::vector<std::string>& repaired() const { return repaired_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Adds round round(): its parquet, `summary` as round_<NNNN>_summary.<extension>, and the
  // manifest with `record` (its number, artifacts and counts filled here), committed together.
  // Throws Error(kRun) when a write fails; the history is then as it was.
  void append(table::Database& db, RoundRecord record, const RoundRows& rows,
              const std::string& summary, const std::string& extension);

 private:
  void load(table::Database& db, const std::string& group_column,
            const std::optional<model::EncoderFingerprint>& pool_encoder);
  void rebuild(table::Database& db, const std::string& group_column,
               const std::optional<model::EncoderFingerprint>& pool_encoder);
  void check_encoder(const std::optional<model::EncoderFingerprint>& pool_encoder);
  void read_groups(table::Database& db);

  std::filesystem::path folder_;
  HistorySettings settings_;
  std::optional<OutputLock> lock_;
  Manifest manifest_;
  std::unordered_set<std::string> mined_groups_;
  uint64_t mined_so_far_ = 0;
  std::vector<std::string> repaired_;
  std::vector<std::string> warnings_;
};

// The checks a round starts with (a readable manifest, rounds 1..N, every artifact's sha256,
// no round files without a manifest, the same group column for `pool`), without taking the
// folder's lock: `deft run` asks before it embeds anything (the encoder is checked once the
// pool's embeddings exist). Nothing to check for a new folder, or one with an unfinished commit
// (the round's lock finishes it first). Throws Error(kInput) as the round would.
void verify_history_folder(table::Database& db, const std::filesystem::path& folder,
                           const std::filesystem::path& pool, const std::string& filepath_column,
                           const std::string& group_column);

// An input table's identity now (absolute path, bytes, last change, rows).
InputIdentity identify_input(table::Database& db, const std::string& role,
                             const std::filesystem::path& table, uint64_t rows);

// Local time now, "2026-12-02 12:00:00".
std::string local_time_now();

}  // namespace deft::history
