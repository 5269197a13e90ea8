#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include "cli/commands.h"

namespace {

// Mining multiplies through OpenBLAS's own threads, while FAISS's OpenMP threads, left spinning
// after each parallel region, want the same 2 cores: passive OpenMP waits made a 1k × 1M × 768
// search ~1.3× faster here (README, "Mining benchmark"). libgomp reads OMP_WAIT_POLICY only
// when it loads, so deft sets it and starts itself again: once, only for mining, and never
// over a value the user set.
void use_passive_openmp_waits_for_mining(int argc, char** argv) {
  if (argc < 2 || std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  const std::string verb = argv[1];
  const bool mining =
      verb == "mine" || (verb == "tmm" && argc > 2 && std::string(argv[2]) == "nearest_neighbors");
  if (!mining) return;
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  ::execv("/proc/self/exe", argv);  // if that fails, run on as we are
}

}  // namespace

int main(int argc, char** argv) {
  use_passive_openmp_waits_for_mining(argc, argv);
  const std::vector<std::string> args(argv + 1, argv + argc);
  return deft::cli::run_deft(args, std::cout, std::cerr);
}
