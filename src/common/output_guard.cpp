#include "common/output_guard.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include "common/error.h"

namespace deft {
namespace {

namespace fs = std::filesystem;

bool same_file(const fs::path& a, const fs::path& b) {
  struct stat sa {};
  struct stat sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// True when `path` (existing or not) would be created inside the folder `folder`.
bool inside_folder(const fs::path& path, const fs::path& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return false;
  // The nearest existing ancestor of the output, compared with the folder by inode.
  for (fs::path p = fs::absolute(path).parent_path(); !p.empty(); p = p.parent_path()) {
    if (fs::exists(p, ec)) {
      for (fs::path q = p; !q.empty(); q = q.parent_path()) {
        if (same_file(q, folder)) return true;
        if (q == q.root_path()) break;
      }
      return false;
    }
    if (p == p.root_path()) break;
  }
  return false;
}

}  // namespace

void refuse_output_over_inputs(const fs::path& output, std::string_view output_key,
                               const std::vector<std::pair<std::string, fs::path>>& inputs) {
  for (const auto& [key, input] : inputs) {
    if (input.empty()) continue;
    if (same_file(output, input) || inside_folder(output, input)) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{} '{}' would overwrite the input {} '{}'", output_key,
                              output.string(), key, input.string()),
                  "write the output elsewhere; deft never writes over its inputs, whatever "
                  "overwrite says");
    }
  }
}

}  // namespace deft
