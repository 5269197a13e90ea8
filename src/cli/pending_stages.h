#pragma once
// Until the encoder, mining and report stages land, their commands resolve the config, check
// the input tables, and then stop with this error instead of pretending to run.

#include <string_view>

#include "common/error.h"

namespace deft::cli {

[[noreturn]] void stage_not_built(std::string_view command, std::string_view stage,
                                  std::string_view checked);

}  // namespace deft::cli
