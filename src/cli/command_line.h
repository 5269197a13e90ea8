#pragma once
// argv → what to run. The grammar, for every verb:
//   deft <verb> [-e SPEC.yaml] [-m MINING_SPEC.yaml] [--cfg=job] [-q] [-h]
//               [--key value | --key=value]... [key=value]...
// Verbs: embed | embedding image_embeddings | mine | tmm nearest_neighbors | run | demo |
//        version | help [verb]. `-m` belongs to `run`. Settings apply in the order given.

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cli/config.h"

namespace deft::cli {

// One key set on the command line (an override or a flag), with how it was written.
struct Setting {
  std::string key;
  RawValue value;
  std::string origin;  // e.g. "override 'topn=10'" or "flag --topn"
};

struct CommandLine {
  std::vector<std::string> verb;  // as typed: {"embed"} or {"embedding", "image_embeddings"}
  std::optional<std::filesystem::path> spec;         // -e / --experiment_spec_file
  std::optional<std::filesystem::path> mining_spec;  // -m / --mining_spec_file (run)
  std::vector<Setting> settings;
  bool print_config = false;  // --cfg=job
  bool help = false;
  bool quiet = false;
  bool version = false;
};

// Splits argv (without the program name). Verb words are the leading words that name a
// command; everything after is options. Throws Error(kUsage) for malformed arguments.
CommandLine parse_command_line(std::span<const std::string> args,
                               std::span<const std::vector<std::string>> verbs);

}  // namespace deft::cli
