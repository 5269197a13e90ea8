#pragma once
// Outputs never destroy inputs: a command refuses an output path that is one of its inputs —
// the same file by device and inode, however it is spelled (`./a.parquet`, a symlink, a hard
// link) — or that lies inside an input folder (a table folder would read it back as a part).
// `overwrite=true` never applies to an input.
//
//   refuse_output_over_inputs(job.output, {{"target_parquet", job.target}}, "output_parquet");

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace deft {

// inputs: (key, path) pairs, named in the error. Throws Error(kUsage) naming both keys.
void refuse_output_over_inputs(
    const std::filesystem::path& output, std::string_view output_key,
    const std::vector<std::pair<std::string, std::filesystem::path>>& inputs);

}  // namespace deft
