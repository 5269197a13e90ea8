#pragma once
// Case-insensitive matching of names deft defines (option values, family names, file
// extensions): ASCII only, locale-independent.
//
//   if (ascii_lower(name) == "siglip2") ...

#include <algorithm>
#include <string>
#include <string_view>

namespace deft {

inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

}  // namespace deft
