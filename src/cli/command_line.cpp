#include "cli/command_line.h"

#include <algorithm>

#include <fmt/format.h>

#include "cli/option_table.h"
#include "common/error.h"

namespace deft::cli {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// --input-parquet and --input_parquet both name the key input_parquet.
std::string flag_to_key(std::string_view flag) {
  std::string key(flag);
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

std::string joined_words(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words)
    out += (out.empty() ? "" : " ") + w;
  return out;
}

// What to say about arguments that start with no known command: the command whose first word
// was typed without its action (`deft embedding`), or the closest command to the first one or
// two words (`deft image_embedding` → `embedding image_embeddings`, `deft mien` → `mine`).
Error unknown_command(std::span<const std::string> args,
                      std::span<const std::vector<std::string>> verbs) {
  const std::string& first = args[0];
  const bool action_follows =
      args.size() > 1 && !starts_with(args[1], "-") && args[1].find('=') == std::string::npos;
  // `deft embedding` alone: every action the word takes (image_embeddings, text_embeddings).
  std::string actions;
  for (const std::vector<std::string>& verb : verbs) {
    if (verb.size() > 1 && verb[0] == first && !action_follows)
      actions += fmt::format("{}`deft {}`", actions.empty() ? "" : " or ", joined_words(verb));
  }
  if (!actions.empty()) {
    return Error(ErrorKind::kUsage, fmt::format("`deft {}` needs its action: {}", first, actions),
                 "run `deft --help` for the commands");
  }
  std::string best;
  size_t best_distance = std::string::npos;
  for (const std::vector<std::string>& verb : verbs) {
    const std::string name = joined_words(verb);
    std::vector<std::string> typed = {first};
    if (verb.size() > 1 && action_follows) typed.push_back(args[1]);
    // A verb's words against as many typed words, or its action alone against the first word
    // (`deft image_embeddings` for `deft embedding image_embeddings`).
    size_t d = edit_distance(joined_words(typed), name);
    if (verb.size() > 1) d = std::min(d, edit_distance(first, verb.back()));
    if (d < best_distance) {
      best_distance = d;
      best = name;
    }
  }
  const std::string typed = action_follows ? first + " " + args[1] : first;
  const bool close = best_distance <= std::max<size_t>(2, typed.size() / 3);
  return Error(ErrorKind::kUsage,
               fmt::format("unknown command '{}'{}", first,
                           close ? fmt::format("; did you mean `deft {}`?", best) : ""),
               "run `deft --help` for the commands");
}

// -e and -m may each be given once: a second one would silently replace the first.
void set_once(std::optional<std::filesystem::path>& slot, std::string_view flag,
              std::string value) {
  if (slot) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{} is given twice ('{}' and '{}'); a command reads one spec of each "
                            "kind",
                            flag, slot->string(), value),
                "merge the two specs into one file, or give single keys as key=value");
  }
  slot = std::move(value);
}

}  // namespace

CommandLine parse_command_line(std::span<const std::string> args,
                               std::span<const std::vector<std::string>> verbs) {
  CommandLine line;
  size_t i = 0;
  // The longest verb whose words start the arguments.
  for (const std::vector<std::string>& verb : verbs) {
    if (verb.size() > line.verb.size() && verb.size() <= args.size() &&
        std::equal(verb.begin(), verb.end(), args.begin())) {
      line.verb = verb;
    }
  }
  i = line.verb.size();

  auto value_of = [&](std::string_view flag, std::string_view inline_value) -> std::string {
    if (!inline_value.empty()) return std::string(inline_value);
    if (i + 1 >= args.size()) {
      throw Error(ErrorKind::kUsage, fmt::format("{} needs a value", flag));
    }
    return args[++i];
  };

  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string_view name = arg;
    std::string_view inline_value;
    if (starts_with(arg, "-")) {
      const size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        name = std::string_view(arg).substr(0, eq);
        inline_value = std::string_view(arg).substr(eq + 1);
        if (inline_value.empty()) {
          throw Error(ErrorKind::kUsage, fmt::format("{} has an empty value", name));
        }
      }
    }

    if (name == "-h" || name == "--help") {
      line.help = true;
    } else if (name == "-q" || name == "--quiet") {
      line.quiet = true;
    } else if (name == "--version") {
      line.version = true;
    } else if (name == "-e" || name == "--experiment_spec_file" ||
               name == "--experiment-spec-file" || name == "--spec") {
      set_once(line.spec, "-e (the spec file)", value_of(name, inline_value));
    } else if (name == "-m" || name == "--mining_spec_file" || name == "--mining-spec-file" ||
               name == "--mining_spec") {
      set_once(line.mining_spec, "-m (the mining spec file)", value_of(name, inline_value));
    } else if (name == "--cfg" || name == "-c") {
      const std::string what = value_of(name, inline_value);
      if (what != "job") {
        throw Error(ErrorKind::kUsage,
                    fmt::format("{} {}: only --cfg=job (print the resolved config) is supported",
                                name, what));
      }
      line.print_config = true;
    } else if (starts_with(arg, "--") && arg.size() > 2) {
      const std::string key = flag_to_key(name.substr(2));
      line.settings.push_back(
          {key, RawValue::plain(value_of(name, inline_value)), fmt::format("flag {}", name)});
    } else if (starts_with(arg, "-") && arg.size() > 1) {
      throw Error(ErrorKind::kUsage, fmt::format("unknown option '{}'", arg),
                  "spec keys are given as key=value or --key value; see --help");
    } else if (arg.find('=') != std::string::npos) {
      auto [key, value] = parse_override(arg);
      line.settings.push_back(
          {std::move(key), std::move(value), fmt::format("override '{}'", arg)});
    } else if (line.verb.empty()) {
      throw unknown_command(args.subspan(i), verbs);
    } else {
      throw Error(ErrorKind::kUsage, fmt::format("unexpected argument '{}'", arg),
                  "settings are key=value (e.g. topn=10); see --help");
    }
  }
  return line;
}

}  // namespace deft::cli
