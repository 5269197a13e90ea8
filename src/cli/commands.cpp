#include "cli/commands.h"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <vector>

#include <duckdb.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/command_line.h"
#include "cli/option_table.h"
#include "cli/run_spec.h"
#include "common/error.h"
#include "common/log.h"
#include "common/text.h"

namespace deft::cli {
namespace {

enum class SpecFiles { kNone, kOne, kRunPair };

struct Command {
  std::vector<std::vector<std::string>> names;  // first: deft's own; then the reference's
  const OptionTable& (*options)();
  SpecFiles specs;
  const char* summary;
  const char* details;
  int (*run)(const Config&, Context&);
  // The keys of the TAO form (names[1…]) where they differ from deft's; nullptr: the same.
  const OptionTable& (*tao_options)() = nullptr;
};

const std::vector<Command>& commands() {
  static const std::vector<Command> list = {
      {{{"embed"}, {"embedding", "image_embeddings"}},
       embedding_options,
       SpecFiles::kOne,
       "embed the images of a table with one encoder, into an embedding parquet",
       "Reads input_parquet (parquet or CSV with a `filepath` column), embeds every image and "
       "writes output_parquet: the input's columns unchanged plus `embedding` (FLOAT[]).",
       run_embed,
       tao_embedding_options},
      {{{"embed-text"}, {"embedding", "text_embeddings"}},
       text_embedding_options,
       SpecFiles::kOne,
       "embed the texts of a table with a CLIP or SigLIP text tower, into an embedding parquet",
       "Reads input_parquet (parquet or CSV with a `text` column), tokenizes each text as the "
       "checkpoint's transformers tokenizer does, and writes output_parquet: the input's columns "
       "unchanged plus `embedding` (FLOAT[]), the text features in the same space as the "
       "model's image features (get_text_features; not normalised).",
       run_embed_text,
       tao_text_embedding_options},
      {{{"mine"}, {"tmm", "nearest_neighbors"}},
       mining_options,
       SpecFiles::kOne,
       "find each target's nearest pool images and write the deduplicated list",
       "Reads two embedding parquets made with the same encoder, finds each target's topn "
       "nearest pool rows, and writes output_parquet (`filepath` first) and "
       "mining_summary.txt beside it (the reference's lines first). The TAO form writes the "
       "reference's single `filepath` column unless provenance=true.",
       run_mine,
       tao_mining_options},
      {{{"select"}, {"tmm", "unique_neighbor_matching"}},
       selection_options,
       SpecFiles::kOne,
       "select a budget of unique pool images spread over the targets, one-to-one",
       "Reads two embedding parquets (files or folders), L2-normalises both, and assigns "
       "desired_unique_count unique pool files to the targets in passes: each target claims "
       "its topn = ceil(budget / targets) nearest unclaimed files or releases them for the "
       "next pass. Writes final_unique_files.parquet, one parquet per pass, summary.json and "
       "selection_provenance.parquet to output_dir.",
       run_select,
       tao_selection_options},
      {{{"run"}},
       run_options,
       SpecFiles::kRunPair,
       "embed targets and pool with one encoder, mine, and write the report",
       "Embeds target_parquet and source_parquet with the one embedding spec (-e), mines with "
       "the mining spec (-m), and writes everything to "
       "<output_dir>/mining_results/YYYY-MM-DD_HHMMSS/. A bare key goes to the spec that has "
       "it (batch_size=32); embedding.KEY and mining.KEY name one explicitly. With "
       "mode=unique_neighbor_matching (or a -m spec of `deft select` / `tmm "
       "unique_neighbor_matching`) the mining step selects a budget of unique pool images "
       "instead, and mining.KEY takes `deft select`'s keys (listed by `deft select --help`).",
       run_workflow},
      {{{"demo"}},
       demo_options,
       SpecFiles::kNone,
       "generate a small example and run the workflow on it",
       "Writes an example dataset and specs under output_dir and runs deft on them.",
       run_demo},
  };
  return list;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words)
    out += (out.empty() ? "" : " ") + w;
  return out;
}

const Command* find_command(const std::vector<std::string>& verb) {
  for (const Command& c : commands()) {
    if (std::find(c.names.begin(), c.names.end(), verb) != c.names.end()) return &c;
  }
  return nullptr;
}

// Word-wraps `text` into lines of at most `width` characters, each indented by `indent`.
std::string wrapped(std::string_view text, size_t indent, size_t width, size_t first_used) {
  std::string out;
  size_t used = first_used;
  std::istringstream words{std::string(text)};
  std::string word;
  bool first = true;
  while (words >> word) {
    if (!first && used + 1 + word.size() > width) {
      out += '\n';
      out.append(indent, ' ');
      used = indent;
    } else if (!first) {
      out += ' ';
      ++used;
    }
    out += word;
    used += word.size();
    first = false;
  }
  return out;
}

constexpr size_t kHelpWidth = 100;
constexpr const char* kExitCodes =
    "Exit codes: 0 success; 1 the run failed (unreadable input, write error); 2 usage or "
    "config error (unknown key, missing ??? value, wrong type).";

void print_command_help(const Command& command, std::ostream& out) {
  const std::string name = joined(command.names[0]);
  const char* spec_usage = command.specs == SpecFiles::kRunPair
                               ? " -e EMBEDDING_SPEC.yaml -m MINING_SPEC.yaml"
                           : command.specs == SpecFiles::kOne ? " [-e SPEC.yaml]"
                                                              : "";
  out << "deft " << name << ": " << command.summary << "\n\n";
  out << "usage: deft " << name << spec_usage << " [key=value ...] [--key value ...] [--cfg=job]\n";
  for (size_t i = 1; i < command.names.size(); ++i) {
    out << "       deft " << joined(command.names[i]) << " -e SPEC.yaml [key=value ...]"
        << "   (the TAO form)\n";
  }
  out << "\n" << wrapped(command.details, 0, kHelpWidth, 0) << "\n\n";

  out << "Keys (in the YAML spec, as key=value, or as --key value; later settings win;\n"
         "relative paths are taken from the current directory):\n";
  for (const OptionSpec& o : command.options().options()) {
    std::string type = type_name(o.type);
    if (o.type == ValueType::kBoolString) type = "boolean";
    if (o.type == ValueType::kChoice) {
      type.clear();
      for (const std::string& c : o.choices)
        type += (type.empty() ? "" : " | ") + c;
    }
    const std::string default_text = o.default_value == kMissing ? "required"
                                     : o.default_value.empty()   ? "default \"\""
                                                                 : "default " + o.default_value;
    out << fmt::format("  {} ({}; {}){}\n", o.key, type, default_text,
                       o.extension ? " [deft only]" : "");
    out << "      " << wrapped(o.help, 6, kHelpWidth, 6) << "\n";
  }
  out << "\nOptions:\n";
  if (command.specs == SpecFiles::kOne) {
    out << "  -e, --experiment_spec_file FILE  YAML spec holding any of the keys above\n";
  } else if (command.specs == SpecFiles::kRunPair) {
    out << "  -e, --experiment_spec_file FILE  the embedding spec (used for targets and pool)\n"
           "  -m, --mining_spec_file FILE      the mining spec\n";
  }
  out << "  --cfg=job                        print the resolved config as YAML and exit\n"
         "  -q, --quiet                      no progress output\n"
         "  -h, --help                       this help\n\n"
      << wrapped(kExitCodes, 0, kHelpWidth, 0) << "\n";
}

void print_overview(std::ostream& out) {
  out << "deft: targeted image selection — embed targets and a pool with one encoder, mine each "
         "target's nearest pool images.\n\nusage: deft <command> [options] [key=value ...]\n\n"
         "Commands:\n";
  for (const Command& c : commands()) {
    std::string names = joined(c.names[0]);
    for (size_t i = 1; i < c.names.size(); ++i)
      names += ", " + joined(c.names[i]);
    out << fmt::format("  {:<40} {}\n", names, c.summary);
  }
  out << fmt::format("  {:<40} {}\n", "version", "print the version");
  out << "\n`deft <command> --help` lists a command's keys and defaults.\n"
      << wrapped(kExitCodes, 0, kHelpWidth, 0) << "\n";
}

std::string version_text() {
  return fmt::format("deft {} (DuckDB {})", DEFT_VERSION, duckdb_library_version());
}

// The option table of the form the user typed: deft's own, or the TAO form's.
const OptionTable& options_for(const Command& command, const std::vector<std::string>& verb) {
  const bool tao_form = verb != command.names[0];
  return tao_form && command.tao_options != nullptr ? command.tao_options() : command.options();
}

Config resolve_config(const Command& command, const CommandLine& line) {
  const std::string name = joined(line.verb);
  if (line.spec && command.specs == SpecFiles::kNone) {
    throw Error(ErrorKind::kUsage, fmt::format("`deft {}` takes no spec file (-e)", name));
  }
  if (line.mining_spec && command.specs != SpecFiles::kRunPair) {
    throw Error(ErrorKind::kUsage,
                fmt::format("-m (mining spec) belongs to `deft run`, not `deft {}`", name));
  }
  Config config(command.specs == SpecFiles::kRunPair ? run_table_for(line)
                                                     : options_for(command, line.verb));
  if (command.specs == SpecFiles::kRunPair) {
    if (line.spec) apply_step_spec(config, *line.spec, "embedding.");
    if (line.mining_spec) apply_step_spec(config, *line.mining_spec, "mining.");
  } else if (line.spec) {
    apply_spec_file(config, *line.spec);
  }
  for (const Setting& s : line.settings)
    config.set(s.key, s.value, s.origin);
  // `deft run target_text=…` takes texts as the targets: target_parquet is then not asked for.
  if (command.specs == SpecFiles::kRunPair && !config.get_string("target_text").empty())
    config.release("target_parquet");
  config.require_valid();  // after every source: an override may fix a value of the spec
  return config;
}

std::vector<std::vector<std::string>> all_verbs() {
  std::vector<std::vector<std::string>> verbs = {{"version"}};
  for (const Command& c : commands())
    verbs.insert(verbs.end(), c.names.begin(), c.names.end());
  return verbs;
}

int dispatch(std::span<const std::string> args, std::ostream& out) {
  if (!args.empty() && args[0] == "help") {
    // `deft help embed` = `deft embed --help`; `deft help` = `deft --help`.
    const Command* command = find_command({args.begin() + 1, args.end()});
    if (command == nullptr) {
      print_overview(out);
    } else {
      print_command_help(*command, out);
    }
    return kExitOk;
  }
  const CommandLine line = parse_command_line(args, all_verbs());
  if (line.version || line.verb == std::vector<std::string>{"version"}) {
    out << version_text() << "\n";
    return kExitOk;
  }
  if (line.verb.empty()) {
    if (line.help) {
      print_overview(out);
      return kExitOk;
    }
    throw Error(ErrorKind::kUsage, "no command given", "run `deft --help` for the commands");
  }
  const Command* command = find_command(line.verb);
  DEFT_ASSERT(command != nullptr, "parsed verb has a command");
  if (line.help) {
    print_command_help(*command, out);
    return kExitOk;
  }
  log::sink().quiet = line.quiet;
  const Config config = resolve_config(*command, line);
  if (line.print_config) {
    out << config.to_yaml();
    return kExitOk;
  }
  config.require_complete();
  Context context{out, line.quiet};
  return command->run(config, context);
}

}  // namespace

Config resolve_command_line(std::span<const std::string> args) {
  const CommandLine line = parse_command_line(args, all_verbs());
  const Command* command = find_command(line.verb);
  DEFT_ASSERT(command != nullptr, "resolve_command_line needs a command");
  return resolve_config(*command, line);
}

int run_deft(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  log::sink().stream = &err;
  try {
    return dispatch(args, out);
  } catch (const Error& e) {
    err << "deft: error: " << e.what() << "\n";
    if (!e.hint().empty()) err << "hint: " << e.hint() << "\n";
    return exit_code_for(e.kind());
  } catch (const std::bad_alloc&) {
    err << "deft: error: out of memory\n";
    return kExitRunFailure;
  } catch (const std::filesystem::filesystem_error& e) {
    // A file operation the run needed failed (permissions, disk full, a vanished folder).
    err << "deft: error: " << e.what() << "\n";
    return kExitRunFailure;
  }
}

}  // namespace deft::cli
