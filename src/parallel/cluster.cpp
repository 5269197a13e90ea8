#include "parallel/cluster.h"

#include <cstdlib>

#include <fmt/format.h>

#include "common/error.h"

#ifdef DEFT_WITH_MPI
#include <mpi.h>
#endif

namespace deft::parallel {

namespace {
bool g_started = false;
}

Cluster::Cluster() {
#ifdef DEFT_WITH_MPI
  // Only under a launcher: a plain run must not need (or wait for) an MPI runtime.
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr) {
    int ready = 0;
    MPI_Initialized(&ready);
    if (ready == 0) MPI_Init(nullptr, nullptr);
    g_started = true;
    mpi_ = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
#endif
}

Cluster& Cluster::get() {
  static Cluster cluster;
  return cluster;
}

void Cluster::shutdown() {
#ifdef DEFT_WITH_MPI
  int finished = 0;
  MPI_Finalized(&finished);
  if (g_started && finished == 0) MPI_Finalize();
#endif
}

std::pair<uint64_t, uint64_t> Cluster::share(uint64_t rows) const {
  const auto n = static_cast<uint64_t>(size_);
  const auto r = static_cast<uint64_t>(rank_);
  return {rows * r / n, rows * (r + 1) / n};
}

std::vector<std::string> Cluster::gather(const std::string& bytes) const {
  if (!mpi_ || size_ == 1) return {bytes};
#ifdef DEFT_WITH_MPI
  const auto mine = static_cast<long long>(bytes.size());
  std::vector<long long> sizes(static_cast<size_t>(size_));
  MPI_Gather(&mine, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  // Variable-length pieces through MPI_Gatherv (int counts: pieces stay far below 2 GB here,
  // being top-n lists and their paths).
  std::vector<int> counts(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
  std::string all;
  if (root()) {
    long long total = 0;
    for (int i = 0; i < size_; ++i) {
      counts[i] = static_cast<int>(sizes[i]);
      offsets[i] = static_cast<int>(total);
      total += sizes[i];
    }
    all.resize(static_cast<size_t>(total));
  }
  MPI_Gatherv(bytes.data(), static_cast<int>(mine), MPI_CHAR, all.data(), counts.data(),
              offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
  std::vector<std::string> out;
  if (root()) {
    for (int i = 0; i < size_; ++i)
      out.push_back(all.substr(static_cast<size_t>(offsets[i]), static_cast<size_t>(counts[i])));
  }
  return out;
#else
  return {bytes};
#endif
}

std::string Cluster::broadcast(const std::string& bytes) const {
  if (!mpi_ || size_ == 1) return bytes;
#ifdef DEFT_WITH_MPI
  long long size = root() ? static_cast<long long>(bytes.size()) : 0;
  MPI_Bcast(&size, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
  std::string out = root() ? bytes : std::string(static_cast<size_t>(size), '\0');
  MPI_Bcast(out.data(), static_cast<int>(size), MPI_CHAR, 0, MPI_COMM_WORLD);
  return out;
#else
  return bytes;
#endif
}

void Cluster::check_all(const std::string& local_error) const {
  const std::vector<std::string> errors = gather(local_error);
  std::string message;
  if (root()) {
    for (size_t i = 0; i < errors.size(); ++i) {
      if (errors[i].empty()) continue;
      message +=
          fmt::format("{}rank {} of {}: {}", message.empty() ? "" : "; ", i, size_, errors[i]);
    }
    if (size_ == 1 && !message.empty()) message = errors[0];
  }
  message = broadcast(message);
  if (!message.empty()) throw Error(ErrorKind::kRun, message);
}

}  // namespace deft::parallel
