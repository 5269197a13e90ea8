#pragma once
// A command's resolved configuration: the option table's defaults, then the YAML spec, then
// `--key value` flags and `key=value` overrides in command-line order (later wins).
//
//   Config config(embedding_options());
//   apply_spec_file(config, "embedding_spec.yaml");
//   config.set("batch_size", RawValue::plain("32"), "override 'batch_size=32'");
//   config.require_complete();                          // throws naming every ??? key
//   int64_t batch = config.get_int("batch_size");

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cli/option_table.h"

namespace deft::cli {

// A YAML scalar as written: its text, whether it was quoted, whether it was null.
struct RawValue {
  std::string text;
  bool quoted = false;
  bool null = false;
  static RawValue plain(std::string text) { return {std::move(text), false, false}; }
};

class Config {
 public:
  explicit Config(const OptionTable& table);

  const OptionTable& table() const { return *table_; }
  // Sets `key` from `raw`. Throws Error(kUsage) naming `origin` for an unknown key (with the
  // closest valid one). A value of the wrong type or out of range is remembered, naming
  // `origin` and the expected type, and reported by require_valid() unless a later set()
  // replaces it: validation happens after the spec and the overrides are merged.
  void set(std::string_view key, const RawValue& raw, std::string_view origin);
  // Throws Error(kUsage) for the first key (in table order) whose value is wrong.
  void require_valid() const;
  // Every key still ??? (required and not given), in table order.
  std::vector<std::string> missing_keys() const;
  void require_complete() const;
  // A required key that another key stands in for (`deft run`'s target_text for
  // target_parquet): still ??? → unset; a given value is kept.
  void release(std::string_view key);

  std::string get_string(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;
  bool get_bool(std::string_view key) const;

  // The resolved config as YAML (dotted keys nested), in table order. Parses back to itself.
  std::string to_yaml() const;

  // A step's config cut out of `deft run`'s: every key of `table` takes this config's value of
  // `prefix + key` (as resolved, defaults included); keys this config lacks keep `table`'s
  // defaults (the files between steps, which run sets).
  Config section(const OptionTable& table, std::string_view prefix) const;

 private:
  enum class State { kSet, kRequired, kNull, kInvalid };  // kRequired: still ???
  struct Value {
    State state = State::kRequired;
    // kSet: canonical text (strings verbatim, numbers/bools normalised); kInvalid: the error
    std::string text;
  };
  const Value& value(std::string_view key, ValueType expected) const;

  const OptionTable* table_;
  std::map<std::string, Value, std::less<>> values_;
};

// A key/value pair found in a YAML spec file, with the line it came from.
struct SpecEntry {
  std::string key;  // dotted for nested maps
  RawValue value;
  int line;
};

// Reads a YAML spec (a map of scalars, possibly nested). Throws Error(kUsage) naming the file
// and line for a missing file, a YAML syntax error or a non-scalar value.
std::vector<SpecEntry> read_spec_file(const std::filesystem::path& path);
// Applies every entry of the spec file to `config` (each error names file and line).
void apply_spec_file(Config& config, const std::filesystem::path& path);
// Parses a bare `key=value` override (Hydra style; a leading + or ++ is accepted).
std::pair<std::string, RawValue> parse_override(std::string_view word);

}  // namespace deft::cli
