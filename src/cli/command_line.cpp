#include "cli/command_line.h"

#include <algorithm>

#include <fmt/format.h>

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
      line.spec = value_of(name, inline_value);
    } else if (name == "-m" || name == "--mining_spec_file" || name == "--mining-spec-file" ||
               name == "--mining_spec") {
      line.mining_spec = value_of(name, inline_value);
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
    } else {
      throw Error(ErrorKind::kUsage,
                  line.verb.empty() ? fmt::format("unknown command '{}'", arg)
                                    : fmt::format("unexpected argument '{}'", arg),
                  line.verb.empty() ? "run `deft --help` for the commands"
                                    : "settings are key=value (e.g. topn=10); see --help");
    }
  }
  return line;
}

}  // namespace deft::cli
