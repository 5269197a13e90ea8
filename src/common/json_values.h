#pragma once
// Checks on JSON values from user files, shared by every reader of them (configs, tokenizer
// vocabularies, fingerprints): a whole number that fits before any conversion, and an error
// excerpt that never serialises an unbounded value (dump() recurses once per nesting level).

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace deft {

// A bounded, non-recursive description of a JSON value for error messages: a scalar as JSON
// (a string cut to its first 40 characters), a container as "a list of N values" or "an object
// with N keys".
std::string json_excerpt(const nlohmann::json& value);

// The value as a whole number when it is one (an integer, or a float with no fraction within
// int64's range); nullopt for anything else (8.7, 1e300, "8", true).
std::optional<int64_t> whole_number(const nlohmann::json& value);

}  // namespace deft
