#pragma once
// Text outputs (specs, summaries, reports) are written whole or not at all: a temporary file
// beside the target, flushed, then renamed over it.

#include <filesystem>
#include <string_view>

namespace deft {

// Throws Error(kRun) naming the path when it cannot be written.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace deft
