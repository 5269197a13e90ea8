#pragma once
// Typed reads of a checkpoint's JSON files (config.json, preprocessor_config.json), each
// failure an Error(kInput) naming the file and the key.
//
//   const nlohmann::json root = read_json_object(folder / "config.json");
//   int hidden = 768;
//   read_field(root, "hidden_size", hidden, file);   // absent or null: keeps 768

#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace deft::model {

// The file's JSON, which must be an object.
nlohmann::json read_json_object(const std::filesystem::path& path);

// Throws Error(kInput) "'<file>': <what>".
[[noreturn]] void refuse_config(const std::filesystem::path& file, const std::string& what);

// `value` converted to T; a value of the wrong type names the file and `key`.
template <typename T>
void read_value(const nlohmann::json& value, const char* key, T& out,
                const std::filesystem::path& file) {
  try {
    out = value.get<T>();
  } catch (const nlohmann::json::exception&) {
    refuse_config(file, fmt::format("key '{}' has the wrong type ({})", key, value.dump()));
  }
}

// Absent or null keeps `value` (transformers takes the class default then); a value of the
// wrong type names the file and key.
template <typename T>
void read_field(const nlohmann::json& object, const char* key, T& value,
                const std::filesystem::path& file) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return;
  read_value(*it, key, value, file);
}

// The object at `key` (a nested config section), or an empty object when it is absent, null
// or not an object.
const nlohmann::json& object_at(const nlohmann::json& root, const char* key);

// A JSON number as a double (configs write mlp_ratio as 4 or 4.0); absent or null: fallback.
double read_number(const nlohmann::json& object, const char* key, double fallback,
                   const std::filesystem::path& file);

}  // namespace deft::model
