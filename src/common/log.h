#pragma once
// Messages for people: warnings always, progress/info unless --quiet. One sink (stderr by
// default; tests point it elsewhere). Results meant for scripts go to stdout, not here.

#include <iostream>
#include <string_view>

#include <fmt/format.h>

namespace deft::log {

struct Sink {
  std::ostream* stream = &std::cerr;
  bool quiet = false;
};
Sink& sink();

template <typename... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  if (!sink().quiet) *sink().stream << fmt::format(format, std::forward<Args>(args)...) << '\n';
}

template <typename... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  *sink().stream << "deft: warning: " << fmt::format(format, std::forward<Args>(args)...) << '\n';
}

}  // namespace deft::log
