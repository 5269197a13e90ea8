#pragma once
// Typed reads of a checkpoint's JSON files (config.json, preprocessor_config.json), each
// failure an Error(kInput) naming the file and the key.
//
//   const nlohmann::json root = read_json_object(folder / "config.json");
//   int hidden = 768;
//   read_field(root, "hidden_size", hidden, file);   // absent or null: keeps 768
//
// Every value is checked for type, integrality and range before it is converted (a number
// beyond int, or 8.7 where a whole number belongs, is refused, never cast), and an error quotes
// at most a short excerpt of the value: a config is user input, and dumping a 100,000-deep
// array would recurse once per level.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_values.h"

namespace deft::model {

// The file's JSON, which must be an object.
nlohmann::json read_json_object(const std::filesystem::path& path);

// Throws Error(kInput) "'<file>': <what>".
[[noreturn]] void refuse_config(const std::filesystem::path& file, const std::string& what);

// `value` converted to T after checking its type and range; a value that does not fit names
// the file and `key`. T: bool, an integer type, float or double, std::string, or a vector of
// those.
template <typename T>
void read_value(const nlohmann::json& value, std::string_view key, T& out,
                const std::filesystem::path& file) {
  const auto refuse = [&](std::string_view wanted) {
    refuse_config(file,
                  fmt::format("key '{}' should be {}, is {}", key, wanted, json_excerpt(value)));
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) refuse("true or false");
    out = value.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    const std::optional<int64_t> whole = whole_number(value);
    if (!whole) refuse("a whole number");
    if (*whole < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
        (*whole > 0 && static_cast<uint64_t>(*whole) > std::numeric_limits<T>::max())) {
      refuse(fmt::format("a whole number from {} to {}", std::numeric_limits<T>::min(),
                         std::numeric_limits<T>::max()));
    }
    out = static_cast<T>(*whole);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!value.is_number() || value.is_boolean()) refuse("a number");
    const double d = value.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > static_cast<double>(std::numeric_limits<T>::max()))
      refuse("a finite number within range");
    out = static_cast<T>(d);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) refuse("a string");
    out = value.get<std::string>();
  } else {
    static_assert(std::is_same_v<T, std::vector<typename T::value_type>>,
                  "read_value reads bool, numbers, strings and vectors of them");
    if (!value.is_array()) refuse("a list");
    T values(value.size());
    for (size_t i = 0; i < value.size(); ++i)
      read_value(value[i], fmt::format("{}[{}]", key, i), values[i], file);
    out = std::move(values);
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
