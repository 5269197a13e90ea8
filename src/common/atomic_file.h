#pragma once
// Outputs are written whole or not at all: into a hidden temporary file beside the target,
// flushed, then renamed over it. A failed or killed run never leaves a partial file at the
// output path, and an older output stays intact until the new one is complete.
//
//   const auto temporary = prepare_output(path);   // checks the path, creates its directory
//   ... write temporary ...
//   move_into_place(temporary, path);              // fsync, rename, fsync the directory

#include <filesystem>
#include <string_view>

namespace deft {

class OutputSet;

// Checks that `output` names a file (not a directory), creates its directory, and returns a
// unique hidden temporary path in that directory (".<name>.<pid>-<n>.deft-tmp").
std::filesystem::path prepare_output(const std::filesystem::path& output);

// Flushes `temporary` and renames it to `output`; removes it and throws Error(kRun) on failure.
void move_into_place(const std::filesystem::path& temporary, const std::filesystem::path& output);

// prepare_output + write + move_into_place, for text outputs (specs, summaries, reports).
// With `set`, the finished file joins that output set instead of moving into place now.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents,
                           OutputSet* set = nullptr);

// fsync of a file, or of a folder (which makes renames in it durable; filesystems that refuse
// it for folders are tolerated). Throws Error(kRun) for a file that cannot be flushed.
void flush_to_disk(const std::filesystem::path& path, bool directory);

}  // namespace deft
