#include <cstdlib>
#include <iostream>
#include <streambuf>
#include <string>
#include <vector>

#include <unistd.h>

#include "cli/commands.h"
#include "common/log.h"
#include "kernels/blas_core.h"
#include "parallel/cluster.h"

namespace {

// Mining multiplies through OpenBLAS's own threads, while FAISS's OpenMP threads, left spinning
// after each parallel region, want the same 2 cores: passive OpenMP waits made a 1k × 1M × 768
// search ~1.3× faster here (README, "Mining benchmark"). libgomp reads OMP_WAIT_POLICY and
// OpenBLAS reads OPENBLAS_CORETYPE only when they load, so deft sets them and starts itself
// again: once, only for the commands that search, and never over a value the user set.
void tune_libraries_for_mining(int argc, char** argv) {
  if (argc < 2 || std::getenv("DEFT_TUNED") != nullptr) return;
  const std::string verb = argv[1];
  // `deft run` also embeds, whose oneDNN loops want busy OpenMP waits: it gets the kernel only.
  const bool mining = verb == "mine" || verb == "select" || verb == "tmm";
  if (!mining && verb != "run") return;
  const std::string core = deft::kernels::better_openblas_core();
  const bool wait_policy = mining && std::getenv("OMP_WAIT_POLICY") == nullptr;
  if (core.empty() && !wait_policy) return;
  // Through the binary's real path, so that the process keeps its name (`ps`, `pkill deft`).
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return;
  self[n] = '\0';
  if (wait_policy) ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  if (!core.empty()) ::setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  ::setenv("DEFT_TUNED", "1", 1);  // the second start does not try again
  ::execv(self, argv);             // if that fails, run on as we are
}

// The commands that know how to share their work across MPI ranks.
bool runs_under_mpi(const std::vector<std::string>& args) {
  return (!args.empty() &&
          (args[0] == "mine" || args[0] == "select" || args[0] == "embed" || args[0] == "run")) ||
         (args.size() > 1 && args[0] == "tmm" &&
          (args[1] == "nearest_neighbors" || args[1] == "unique_neighbor_matching")) ||
         (args.size() > 1 && args[0] == "embedding" && args[1] == "image_embeddings");
}

// Swallows what the ranks other than 0 would print: rank 0 speaks for the job.
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
};

}  // namespace

int main(int argc, char** argv) {
  tune_libraries_for_mining(argc, argv);
  const std::vector<std::string> args(argv + 1, argv + argc);
  const deft::parallel::Cluster& cluster = deft::parallel::Cluster::get();
  int code = 0;
  if (cluster.size() == 1) {
    code = deft::cli::run_deft(args, std::cout, std::cerr);
  } else if (!runs_under_mpi(args)) {
    if (cluster.root()) {
      std::cerr << "deft: error: only `deft embed`, `deft mine`, `deft select` (and their TAO "
                   "forms) and `deft run` run under mpirun; run the other commands without it\n";
    }
    code = 2;
  } else {
    NullBuffer nothing;
    std::ostream quiet(&nothing);
    if (!cluster.root()) deft::log::sink().stream = &quiet;
    code = deft::cli::run_deft(args, cluster.root() ? std::cout : quiet,
                               cluster.root() ? std::cerr : quiet);
    deft::log::sink().stream = &std::cerr;
  }
  deft::parallel::Cluster::shutdown();
  return code;
}
