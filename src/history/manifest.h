#pragma once
// The mining history's manifest (`history.json` in the history folder): one record per round
// — its number, time, command, resolved spec, the encoder, the input tables' identities, the
// counts the forecasts need, and the sha256 of every artifact the round added to the folder
// (`round_<NNNN>.parquet`, `round_<NNNN>_summary.<txt|json>`). Rounds are numbered 1, 2, 3 …
// without gaps.
//
//   Manifest m = read_manifest(folder);                  // throws Error naming the file
//   std::vector<std::string> wrong = verify_manifest(m, folder);   // one line per problem
//   std::string text = manifest_json(m);                 // stable, indented

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace deft::history {

inline constexpr const char* kManifestFile = "history.json";
inline constexpr const char* kManifestFormat = "deft.mining_history/1";

// round_0001.parquet and round_0001_summary.txt / .json.
std::string round_file_name(int round);
std::string round_summary_name(int round, const std::string& extension);
// The round number of a `round_<NNNN>.parquet` name, nullopt for any other name.
std::optional<int> round_of_file(const std::string& name);

struct Artifact {
  std::string file;  // in the history folder
  std::string sha256;
  uint64_t bytes = 0;
};

// An input table as it was when the round ran: enough to tell a later reader whether it is the
// same table (path, size, time of last change, rows).
struct InputIdentity {
  std::string role;  // "targets", "pool"
  std::string path;  // absolute
  uint64_t bytes = 0;
  std::string modified;  // UTC, ISO 8601
  uint64_t rows = 0;
};

struct RoundCounts {
  uint64_t targets = 0;
  uint64_t pool_rows = 0;
  uint64_t excluded_by_history = 0;       // pool rows left out because an earlier round mined them
  uint64_t candidates = 0;                // each target's top-n over the whole pool, summed
  uint64_t candidates_already_mined = 0;  // of those, rows an earlier round mined
  uint64_t mined = 0;                     // the round's yield: rows it added to the history
  uint64_t capped = 0;                    // mined images dropped by max_pool_fraction
};

struct RoundRecord {
  int round = 0;
  std::string time;     // local time, "2026-12-02 12:00:00"
  std::string command;  // mine, select, run
  std::string spec;     // the resolved spec (YAML)
  std::vector<InputIdentity> inputs;
  std::vector<Artifact> artifacts;  // verified before every later round
  std::vector<Artifact> outputs;    // the round's own outputs where it wrote them (recorded)
  RoundCounts counts;
  std::map<std::string, uint64_t> mined_per_label;      // empty: the pool has no labels
  std::map<std::string, uint64_t> pool_rows_per_label;  // the pool's rows per label then
};

struct Manifest {
  std::string format = kManifestFormat;
  std::string group_column;            // what identifies an item across rounds
  std::optional<std::string> encoder;  // the pool's fingerprint (JSON), nullopt: unknown
  std::string encoder_name;            // the same in words
  std::vector<RoundRecord> rounds;     // 1, 2, 3 …
  std::vector<std::string> repairs;    // what history_repair changed, with the time
};

// Throws Error(kInput) naming the file and the key for a manifest deft cannot read.
Manifest read_manifest(const std::filesystem::path& folder);
std::string manifest_json(const Manifest& manifest);

// The problems that stop a round, one sentence each (empty: the history is sound): rounds not
// numbered 1..N, an artifact missing or whose sha256 differs, a round file the manifest does
// not list.
std::vector<std::string> verify_manifest(const Manifest& manifest,
                                         const std::filesystem::path& folder);

// An Artifact for `file` in `folder`, hashed now.
Artifact hash_artifact(const std::filesystem::path& folder, const std::string& file);

}  // namespace deft::history
