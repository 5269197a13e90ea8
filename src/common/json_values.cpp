#include "common/json_values.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace deft {

std::string json_excerpt(const nlohmann::json& value) {
  constexpr size_t kMaxChars = 40;
  switch (value.type()) {
    case nlohmann::json::value_t::array:
      return fmt::format("a list of {} value{}", value.size(), value.size() == 1 ? "" : "s");
    case nlohmann::json::value_t::object:
      return fmt::format("an object with {} key{}", value.size(), value.size() == 1 ? "" : "s");
    case nlohmann::json::value_t::string: {
      const std::string& s = value.get_ref<const std::string&>();
      // Invalid UTF-8 is shown replaced (dump() would throw on it).
      const auto quoted = [](const std::string& text) {
        return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      };
      if (s.size() <= kMaxChars) return quoted(s);
      // Cut at a character boundary so the message stays valid UTF-8.
      size_t cut = kMaxChars;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
        --cut;
      return fmt::format("{}… ({} bytes)", quoted(s.substr(0, cut)), s.size());
    }
    default:
      return value.dump();  // a scalar: bounded
  }
}

std::optional<int64_t> whole_number(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    const auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double d = value.get<double>();
    // 2^63 is exact in double; anything at or past it does not fit.
    if (!std::isfinite(d) || d != std::trunc(d) || d >= 9223372036854775808.0 ||
        d < -9223372036854775808.0) {
      return std::nullopt;
    }
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

}  // namespace deft
