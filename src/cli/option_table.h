#pragma once
// The options of each command, defined once: key, type, default, help. Spec parsing,
// `key=value` overrides, `--key value` flags, `--help` and `--cfg=job` all read these tables.
//
//   const OptionTable& table = embedding_options();
//   const OptionSpec* spec = table.find("batch_size");   // type kInt, default "64"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace deft::cli {

enum class ValueType {
  kString,
  kPath,  // a file path; resolved against the current directory
  kInt,
  kFloat,
  kBool,
  kBoolString,  // a boolean the reference schema types as a string ("true"/"false")
  kChoice,      // one of `choices`, matched case-insensitively, stored as spelled there
};

// YAML's marker for "must be given" (OmegaConf's MISSING).
inline constexpr std::string_view kMissing = "???";

struct OptionSpec {
  std::string key;  // dotted keys are nested maps in YAML: "mining.topn"
  ValueType type;
  std::string default_value;  // as YAML text; kMissing when required; "null" when unset
  std::string help;
  std::vector<std::string> choices = {};  // kChoice only
  double min = 0;                         // kInt / kFloat: smallest accepted value, when has_min
  bool has_min = false;
  double max = 0;  // kInt / kFloat: largest accepted value, when has_max
  bool has_max = false;
  bool extension = false;  // deft's own, not in the reference (TAO) schema
};

class OptionTable {
 public:
  // mark_extensions: `--cfg=job` marks deft's own keys `# deft only` (the TAO forms).
  OptionTable(std::string name, std::vector<OptionSpec> options, bool mark_extensions = false);
  const std::string& name() const { return name_; }
  bool mark_extensions() const { return mark_extensions_; }
  const std::vector<OptionSpec>& options() const { return options_; }
  const OptionSpec* find(std::string_view key) const;
  // find(), or else the one option whose last dotted segment is `key` ("topn" → "mining.topn").
  const OptionSpec* resolve(std::string_view key) const;
  // The valid key closest to `key` by edit distance, or "" if none is close.
  std::string closest_key(std::string_view key) const;

 private:
  std::string name_;
  std::vector<OptionSpec> options_;
  bool mark_extensions_ = false;
};

// `deft embed`, and its TAO form `embedding image_embeddings` (the same keys; `--cfg=job`
// marks deft's own).
const OptionTable& embedding_options();
const OptionTable& tao_embedding_options();
// `deft embed-text`, and its TAO form `embedding text_embeddings`.
const OptionTable& text_embedding_options();
const OptionTable& tao_text_embedding_options();
// `deft mine`, and its TAO form `tmm nearest_neighbors`: the same keys, but the TAO form writes
// the reference's single-column output by default (provenance=false).
const OptionTable& mining_options();
const OptionTable& tao_mining_options();
// `deft select`, and its TAO form `tmm unique_neighbor_matching` (the same keys).
const OptionTable& selection_options();
const OptionTable& tao_selection_options();
// `deft run`'s modes (its `mode` key; a -m spec's `action`).
inline constexpr std::string_view kNearestNeighbors = "nearest_neighbors";
inline constexpr std::string_view kUniqueNeighborMatching = "unique_neighbor_matching";
// `deft run`: its own keys, plus the embedding and mining keys nested under `embedding.` and
// `mining.` (the per-step file keys are owned by run, so they are left out there). In
// run_selection_options (mode=unique_neighbor_matching) `mining.` holds `deft select`'s keys.
const OptionTable& run_options();
const OptionTable& run_selection_options();
// `deft demo`.
const OptionTable& demo_options();

// True for the keys of a step spec that `deft run` sets itself (the files between steps, and
// a selection spec's output_dir).
bool owned_by_run(std::string_view key);

const char* type_name(ValueType type);
size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace deft::cli
