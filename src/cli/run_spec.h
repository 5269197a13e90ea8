#pragma once
// `deft run`'s two step specs (-e embedding, -m mining) and its mode: which step the -m spec
// describes (`deft mine`'s nearest neighbours or `deft select`'s unique matching), decided
// before the config is made, since the mode chooses the table of the `mining.` keys.
//
//   const OptionTable& table = run_table_for(line);        // run_options or run_selection_options
//   Config config(table);
//   apply_step_spec(config, *line.mining_spec, "mining.");

#include <filesystem>
#include <string>

#include "cli/command_line.h"
#include "cli/config.h"
#include "cli/option_table.h"

namespace deft::cli {

// The mode, first match wins: `mode=` on the command line; the -m spec's `action` (or
// `mode`); the keys set under mining (the -m spec's and `mining.KEY=` settings): keys only
// `deft select` has mean unique_neighbor_matching, keys of both modes are an error naming
// them; otherwise nearest_neighbors. An unknown mode name is left to the table to refuse.
const OptionTable& run_table_for(const CommandLine& line);

// A step spec given to `deft run`: its keys go under `prefix`, except the files between the
// steps, which run decides (a reference spec's `input_parquet: ???` is simply skipped), and
// the -m spec's `action`, which chose the mode. Refuses a spec that belongs to the other step.
void apply_step_spec(Config& config, const std::filesystem::path& path, const std::string& prefix);

}  // namespace deft::cli
