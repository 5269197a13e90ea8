#include "cli/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "common/text.h"

namespace deft::cli {
namespace {

// YAML 1.1 / OmegaConf spellings of booleans, and the reference's "1"/"0".
std::optional<bool> parse_bool(std::string_view text) {
  const std::string t = ascii_lower(text);
  if (t == "true" || t == "yes" || t == "on" || t == "1") return true;
  if (t == "false" || t == "no" || t == "off" || t == "0") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view text) {
  int64_t value = 0;
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<double> parse_float(std::string_view text) {
  double value = 0;
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
      !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::string float_text(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}

bool is_missing_marker(const RawValue& raw) {
  return !raw.quoted && raw.text == kMissing;
}

// Would YAML read this unquoted text back as the same string?
bool plain_yaml_safe(std::string_view text) {
  if (text.empty() || text.front() == ' ' || text.back() == ' ') return false;
  if (parse_bool(text) || parse_float(text) || parse_int(text)) return false;
  const std::string t = ascii_lower(text);
  if (t == "null" || t == "~" || text == kMissing) return false;
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(text.front()) != std::string_view::npos) {
    return false;
  }
  if (text.find(": ") != std::string_view::npos || text.find(" #") != std::string_view::npos ||
      text.back() == ':') {
    return false;
  }
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return c >= 0x20 && c != 0x7f; });
}

std::string yaml_string(std::string_view text) {
  if (plain_yaml_safe(text)) return std::string(text);
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string describe_choices(const OptionSpec& spec) {
  std::string out;
  for (const std::string& c : spec.choices)
    out += (out.empty() ? "" : ", ") + c;
  return out;
}

void flatten(const YAML::Node& node, const std::string& prefix, const std::string& file,
             std::vector<SpecEntry>& out) {
  const int line = node.Mark().line + 1;
  if (node.IsMap()) {
    for (const auto& item : node) {
      if (!item.first.IsScalar()) {
        throw Error(ErrorKind::kUsage, fmt::format("spec '{}' line {}: keys must be plain names",
                                                   file, item.first.Mark().line + 1));
      }
      flatten(item.second,
              prefix.empty() ? item.first.Scalar() : prefix + "." + item.first.Scalar(), file, out);
    }
    return;
  }
  if (node.IsSequence()) {
    throw Error(ErrorKind::kUsage,
                fmt::format("spec '{}' line {}: '{}' is a list; deft expects a single value", file,
                            line, prefix));
  }
  RawValue raw;
  if (node.IsNull()) {
    raw.null = true;
  } else {
    raw.text = node.Scalar();
    raw.quoted = node.Tag() == "!";  // yaml-cpp tags quoted (non-plain) scalars "!"
  }
  out.push_back({prefix, std::move(raw), line});
}

}  // namespace

Config::Config(const OptionTable& table) : table_(&table) {
  for (const OptionSpec& spec : table.options()) {
    if (spec.default_value == kMissing) {
      values_[spec.key] = Value{State::kRequired, {}};
    } else if (spec.default_value == "null") {
      values_[spec.key] = Value{State::kNull, {}};
    } else {
      const bool quoted = spec.default_value.size() >= 2 && spec.default_value.front() == '"';
      std::string text =
          quoted ? spec.default_value.substr(1, spec.default_value.size() - 2) : spec.default_value;
      set(spec.key, RawValue{std::move(text), quoted, false}, "the built-in defaults");
    }
  }
}

void Config::set(std::string_view key, const RawValue& raw, std::string_view origin) {
  const OptionSpec* spec = table_->resolve(key);
  if (spec == nullptr) {
    const std::string closest = table_->closest_key(key);
    throw Error(ErrorKind::kUsage,
                fmt::format("{}: unknown key '{}' for `{}`{}", origin, key, table_->name(),
                            closest.empty() ? "" : fmt::format("; did you mean '{}'?", closest)),
                fmt::format("`deft {} --help` lists every key", table_->name()));
  }
  Value& value = values_[spec->key];
  if (is_missing_marker(raw)) {
    value = Value{State::kRequired, {}};
    return;
  }
  // A wrong value is kept as an error, not thrown: a later source (an override fixing a bad
  // value in the spec) may replace it. require_valid() reports what is left.
  const auto reject = [&](std::string_view expected) {
    value = Value{State::kInvalid, fmt::format("{}: '{}' must be {}, got '{}'", origin, key,
                                               expected, raw.null ? "null" : raw.text)};
  };
  if (raw.null) {
    if (spec->type == ValueType::kString || spec->type == ValueType::kPath ||
        (spec->type == ValueType::kChoice && spec->default_value == "null")) {
      value =
          spec->default_value == kMissing ? Value{State::kRequired, {}} : Value{State::kNull, {}};
      return;
    }
    return reject(fmt::format("a {}", type_name(spec->type)));
  }

  switch (spec->type) {
    case ValueType::kPath:
      // An optional path given as '' is unset, as the reference's `if path:` reads it (TAO's
      // schema lists '' as these keys' default value).
      if (raw.text.empty() && spec->default_value == "null") {
        value = Value{State::kNull, {}};
        return;
      }
      if (raw.text.empty()) return reject("a path");
      value = Value{State::kSet, raw.text};
      return;
    case ValueType::kString:
      value = Value{State::kSet, raw.text};
      return;
    case ValueType::kInt: {
      const auto parsed = parse_int(raw.text);
      if (!parsed) return reject("an integer");
      if (spec->has_min && static_cast<double>(*parsed) < spec->min) {
        return reject(fmt::format("an integer >= {}", spec->min));
      }
      value = Value{State::kSet, std::to_string(*parsed)};
      return;
    }
    case ValueType::kFloat: {
      const auto parsed = parse_float(raw.text);
      if (!parsed) return reject("a number");
      if ((spec->has_min && *parsed < spec->min) || (spec->has_max && *parsed > spec->max)) {
        return reject(spec->has_max ? fmt::format("a number from {} to {}", spec->min, spec->max)
                                    : fmt::format("a number >= {}", spec->min));
      }
      value = Value{State::kSet, float_text(*parsed)};
      return;
    }
    case ValueType::kBool:
    case ValueType::kBoolString: {
      const auto parsed = parse_bool(raw.text);
      if (!parsed) return reject("true or false (also \"true\"/\"false\", 1/0)");
      value = Value{State::kSet, *parsed ? "true" : "false"};
      return;
    }
    case ValueType::kChoice: {
      if (raw.text.empty() && spec->default_value == "null") {  // unset, as for paths
        value = Value{State::kNull, {}};
        return;
      }
      const auto it = std::find_if(
          spec->choices.begin(), spec->choices.end(),
          [&](const std::string& c) { return ascii_lower(c) == ascii_lower(raw.text); });
      if (it == spec->choices.end()) return reject("one of " + describe_choices(*spec));
      value = Value{State::kSet, *it};
      return;
    }
  }
}

void Config::require_valid() const {
  for (const OptionSpec& spec : table_->options()) {
    const Value& v = values_.at(spec.key);
    if (v.state == State::kInvalid) throw Error(ErrorKind::kUsage, v.text);
  }
}

void Config::release(std::string_view key) {
  const auto it = values_.find(key);
  DEFT_ASSERT(it != values_.end(), "unknown key " + std::string(key));
  if (it->second.state == State::kRequired) it->second = Value{State::kNull, {}};
}

std::vector<std::string> Config::missing_keys() const {
  std::vector<std::string> missing;
  for (const OptionSpec& spec : table_->options()) {
    if (values_.at(spec.key).state == State::kRequired) missing.push_back(spec.key);
  }
  return missing;
}

void Config::require_complete() const {
  const std::vector<std::string> missing = missing_keys();
  if (missing.empty()) return;
  std::string keys;
  for (const std::string& k : missing)
    keys += (keys.empty() ? "" : ", ") + k;
  throw Error(ErrorKind::kUsage,
              fmt::format("missing required value{} for `{}`: {}", missing.size() > 1 ? "s" : "",
                          table_->name(), keys),
              fmt::format("give {} in the spec or as key=value on the command line",
                          missing.size() > 1 ? "them" : "it"));
}

const Config::Value& Config::value(std::string_view key, ValueType expected) const {
  const OptionSpec* spec = table_->find(key);
  DEFT_ASSERT(spec != nullptr, "unknown key " + std::string(key));
  const bool compatible = spec->type == expected ||
                          (expected == ValueType::kString &&
                           (spec->type == ValueType::kPath || spec->type == ValueType::kChoice)) ||
                          (expected == ValueType::kBool && spec->type == ValueType::kBoolString);
  DEFT_ASSERT(compatible, "wrong accessor for " + std::string(key));
  const Value& v = values_.find(key)->second;
  DEFT_ASSERT(v.state != State::kRequired, "read of missing key " + std::string(key));
  DEFT_ASSERT(v.state != State::kInvalid, "read of invalid key " + std::string(key));
  return v;
}

std::string Config::get_string(std::string_view key) const {
  return value(key, ValueType::kString).text;
}
int64_t Config::get_int(std::string_view key) const {
  return *parse_int(value(key, ValueType::kInt).text);
}
double Config::get_float(std::string_view key) const {
  return *parse_float(value(key, ValueType::kFloat).text);
}
bool Config::get_bool(std::string_view key) const {
  return value(key, ValueType::kBool).text == "true";
}

Config Config::section(const OptionTable& table, std::string_view prefix) const {
  Config out(table);
  for (auto& [key, value] : out.values_) {
    const auto it = values_.find(std::string(prefix) + key);
    if (it != values_.end()) value = it->second;
  }
  return out;
}

std::string Config::to_yaml() const {
  std::string out;
  std::vector<std::string> open;  // the nested sections currently open
  for (const OptionSpec& spec : table_->options()) {
    std::vector<std::string> path;
    for (size_t start = 0;;) {
      const size_t dot = spec.key.find('.', start);
      path.push_back(spec.key.substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    size_t common = 0;
    while (common < open.size() && common + 1 < path.size() && open[common] == path[common]) {
      ++common;
    }
    open.resize(common);
    for (size_t depth = common; depth + 1 < path.size(); ++depth) {
      out += fmt::format("{:{}}{}:\n", "", 2 * depth, path[depth]);
      open.push_back(path[depth]);
    }
    const Value& v = values_.at(spec.key);
    std::string text;
    if (v.state == State::kRequired) {
      text = std::string(kMissing);
    } else if (v.state == State::kNull) {
      text = "null";
    } else if (spec.type == ValueType::kBoolString) {
      text = "\"" + v.text + "\"";  // the reference schema types it as a string
    } else if (spec.type == ValueType::kString || spec.type == ValueType::kPath ||
               spec.type == ValueType::kChoice) {
      text = yaml_string(v.text);
    } else {
      text = v.text;
    }
    const char* mark = spec.extension && table_->mark_extensions() ? "  # deft only" : "";
    out += fmt::format("{:{}}{}: {}{}\n", "", 2 * (path.size() - 1), path.back(), text, mark);
  }
  return out;
}

std::vector<SpecEntry> read_spec_file(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw Error(ErrorKind::kUsage, fmt::format("spec file '{}' not found", file));
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::ParserException& e) {
    throw Error(ErrorKind::kUsage, fmt::format("spec '{}' line {}, column {}: {}", file,
                                               e.mark.line + 1, e.mark.column + 1, e.msg));
  } catch (const YAML::Exception& e) {
    throw Error(ErrorKind::kUsage, fmt::format("spec '{}': {}", file, e.what()));
  }
  std::vector<SpecEntry> entries;
  if (root.IsNull()) return entries;  // an empty spec: defaults and overrides only
  if (!root.IsMap()) {
    throw Error(ErrorKind::kUsage,
                fmt::format("spec '{}' must be a YAML map of key: value lines", file));
  }
  flatten(root, "", file, entries);
  // YAML keeps one of two equal keys silently; a spec that sets a key twice is a mistake.
  std::map<std::string, int, std::less<>> first_line;
  for (const SpecEntry& e : entries) {
    const auto [it, inserted] = first_line.try_emplace(e.key, e.line);
    if (!inserted) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("spec '{}' line {}: '{}' is given twice (first on line {})", file,
                              e.line, e.key, it->second),
                  "keep one of the two lines");
    }
  }
  return entries;
}

void apply_spec_file(Config& config, const std::filesystem::path& path) {
  for (const SpecEntry& entry : read_spec_file(path)) {
    config.set(entry.key, entry.value, fmt::format("spec '{}' line {}", path.string(), entry.line));
  }
}

std::pair<std::string, RawValue> parse_override(std::string_view word) {
  const size_t eq = word.find('=');
  DEFT_ASSERT(eq != std::string_view::npos, "an override has '='");
  std::string_view key = word.substr(0, eq);
  while (!key.empty() && key.front() == '+')
    key.remove_prefix(1);  // Hydra's +key / ++key
  if (key.empty()) {
    throw Error(ErrorKind::kUsage, fmt::format("override '{}' has no key", word));
  }
  std::string_view text = word.substr(eq + 1);
  RawValue raw;
  if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"') &&
      text.back() == text.front()) {
    raw.text = std::string(text.substr(1, text.size() - 2));
    raw.quoted = true;
  } else if (text == "null" || text == "~") {
    raw.null = true;
  } else {
    raw.text = std::string(text);
  }
  return {std::string(key), std::move(raw)};
}

}  // namespace deft::cli
