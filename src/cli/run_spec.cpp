#include "cli/run_spec.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "common/log.h"
#include "common/text.h"

namespace deft::cli {
namespace {

namespace fs = std::filesystem;

// The -m spec's keys that name its step rather than set it (a TAO user writes `action`).
bool names_the_mode(const std::string& key) {
  return key == "action" || key == "mode";
}

bool in(const OptionTable& table, const std::string& key) {
  return table.find(key) != nullptr;
}

// `deft run -e MINING.yaml -m EMBEDDING.yaml`: the keys would be unknown one by one; say what
// happened instead. A spec is judged swapped when it has keys of the other step's spec and
// none of its own.
void refuse_swapped_spec(const fs::path& path, const std::string& prefix,
                         const std::vector<SpecEntry>& entries) {
  const bool embedding = prefix == "embedding.";
  const auto own = [&](const std::string& key) {
    return embedding ? in(embedding_options(), key)
                     : in(mining_options(), key) || in(selection_options(), key);
  };
  const auto other = [&](const std::string& key) {
    return embedding ? in(mining_options(), key) || in(selection_options(), key)
                     : in(embedding_options(), key);
  };
  std::vector<std::string> foreign;
  for (const SpecEntry& e : entries) {
    if (owned_by_run(e.key) || names_the_mode(e.key)) continue;
    if (own(e.key)) return;
    if (other(e.key)) foreign.push_back(e.key);
  }
  if (foreign.empty()) return;
  if (foreign.size() > 3) foreign.resize(3);
  throw Error(
      ErrorKind::kUsage,
      fmt::format("{} '{}' looks like a {} spec (it sets {}), not {} spec", embedding ? "-e" : "-m",
                  path.string(), embedding ? "mining" : "embedding", fmt::join(foreign, ", "),
                  embedding ? "an embedding" : "a mining"),
      "`deft run -e EMBEDDING_SPEC.yaml -m MINING_SPEC.yaml`: were -e and -m swapped?");
}

struct ModeKeys {
  std::vector<std::string> nearest;  // set keys only `deft mine` has
  std::vector<std::string> unique;   // set keys only `deft select` has
};

void sort_key(const std::string& key, ModeKeys& keys) {
  const bool mining = in(mining_options(), key);
  const bool selection = in(selection_options(), key);
  if (mining && !selection) keys.nearest.push_back(key);
  if (selection && !mining && !owned_by_run(key)) keys.unique.push_back(key);
}

std::string some(std::vector<std::string> keys) {
  if (keys.size() > 3) keys.resize(3);
  return fmt::format("{}", fmt::join(keys, ", "));
}

}  // namespace

const OptionTable& run_table_for(const CommandLine& line) {
  const auto table_of = [](std::string_view mode) -> const OptionTable& {
    return ascii_lower(std::string(mode)) == kUniqueNeighborMatching ? run_selection_options()
                                                                     : run_options();
  };
  std::optional<std::string> chosen;  // the last `mode=` setting
  for (const Setting& s : line.settings) {
    if (s.key == "mode") chosen = s.value.text;
  }
  if (chosen) return table_of(*chosen);

  ModeKeys keys;
  std::string source;
  if (line.mining_spec) {
    source = fmt::format("-m '{}'", line.mining_spec->string());
    for (const SpecEntry& e : read_spec_file(*line.mining_spec)) {
      if (!names_the_mode(e.key)) {
        sort_key(e.key, keys);
        continue;
      }
      const std::string mode = ascii_lower(e.value.text);
      if (mode != kNearestNeighbors && mode != kUniqueNeighborMatching) {
        throw Error(ErrorKind::kUsage,
                    fmt::format("{} line {}: {} '{}' is not a mining action `deft run` runs",
                                source, e.line, e.key, e.value.text),
                    fmt::format("use {} or {}", kNearestNeighbors, kUniqueNeighborMatching));
      }
      return table_of(mode);
    }
  }
  for (const Setting& s : line.settings) {
    if (s.key.starts_with("mining.")) sort_key(s.key.substr(7), keys);
  }
  if (!keys.unique.empty() && !keys.nearest.empty()) {
    throw Error(
        ErrorKind::kUsage,
        fmt::format("the mining settings{} mix the two mining modes: {} belong to "
                    "nearest_neighbors (`deft mine`), {} to unique_neighbor_matching "
                    "(`deft select`)",
                    source.empty() ? "" : " of " + source, some(keys.nearest), some(keys.unique)),
        "keep the keys of one mode; mode=nearest_neighbors or "
        "mode=unique_neighbor_matching says which");
  }
  return keys.unique.empty() ? run_options() : run_selection_options();
}

void apply_step_spec(Config& config, const fs::path& path, const std::string& prefix) {
  const std::vector<SpecEntry> entries = read_spec_file(path);
  refuse_swapped_spec(path, prefix, entries);
  for (const SpecEntry& entry : entries) {
    const std::string origin = fmt::format("spec '{}' line {}", path.string(), entry.line);
    if (prefix == "mining." && names_the_mode(entry.key)) {
      // It chose the table (run_table_for); the command line's mode= may still differ.
      const std::string mode = ascii_lower(entry.value.text);
      if (mode != config.get_string("mode")) {
        throw Error(ErrorKind::kUsage,
                    fmt::format("{}: {} {} contradicts mode={}", origin, entry.key,
                                entry.value.text, config.get_string("mode")),
                    "drop one of the two");
      }
      continue;
    }
    if (owned_by_run(entry.key)) {
      const bool unset = entry.value.null || entry.value.text.empty() ||
                         (!entry.value.quoted && entry.value.text == kMissing);
      if (!unset) {
        log::warn("{}: {} is ignored; `deft run` chooses the files between its steps", origin,
                  entry.key);
      }
      continue;
    }
    config.set(prefix + entry.key, entry.value, origin);
  }
}

}  // namespace deft::cli
