#pragma once
// What `deft select` checks before any work: each mistake one line naming its key (tao-compat.md
// lists the reference's: the budget, the class_stratified prerequisites, detection_format, the
// parquet paths, exclude_path), and the output folder made.
//
//   check_settings(job);                 // throws Error(kUsage) or Error(kInput)
//   create_output_dir(job.output_dir);

#include <filesystem>
#include <string>
#include <vector>

#include "select/select_job.h"

namespace deft::select {

void check_settings(const SelectJob& job);
// What can be checked before the two embedding tables exist (`deft run` checks it before it
// embeds anything): the keys, exclude_path, and the detection files, read in full.
void check_before_tables(const SelectJob& job);
// rare_class_list: comma-separated, trimmed, lower-cased, distinct, sorted.
std::vector<std::string> parse_rare_classes(const std::string& list);

// The one parquet form the reference accepts: a `.parquet` file, or a folder holding some.
// Throws Error(kInput) naming `key` otherwise.
void require_parquet_path(const std::filesystem::path& path, const std::string& key);

// Throws Error(kUsage) when `dir` is a file, Error(kRun) when it cannot be made.
void create_output_dir(const std::filesystem::path& dir);

}  // namespace deft::select
