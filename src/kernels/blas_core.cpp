#include "kernels/blas_core.h"

#include <cstdlib>
#include <fstream>

#include <dlfcn.h>

#include "common/text.h"

namespace deft::kernels {

std::string better_openblas_core() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return "";
  using CoreName = char* (*)();
  const auto core_name = reinterpret_cast<CoreName>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (core_name == nullptr) return "";
  const std::string chosen = ascii_lower(core_name());
  for (const char* good : {"skylakex", "cooperlake", "sapphirerapids", "haswell", "zen"}) {
    if (chosen == good) return "";
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    const auto has = [&](const char* flag) {
      return (" " + line + " ").find(std::string(" ") + flag + " ") != std::string::npos;
    };
    if (has("avx512f") && has("avx512bw") && has("avx512vl") && has("avx512dq")) return "SkylakeX";
    if (has("avx2") && has("fma")) return "Haswell";
    return "";
  }
  return "";
}

}  // namespace deft::kernels
