#pragma once
// The processes of one deft job. Under `mpirun` (deft built with Open MPI): MPI's ranks. Run
// directly: one process, rank 0 of 1, and every collective below is a no-op. The same binary
// does both.
//
//   parallel::Cluster& cluster = parallel::Cluster::get();
//   auto [begin, end] = cluster.share(rows);                 // this rank's rows
//   std::vector<std::string> all = cluster.gather(mine);     // rank 0 gets every rank's bytes
//   cluster.agree([&] { work(); });                           // throws on every rank if any failed

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace deft::parallel {

class Cluster {
 public:
  // Starts MPI on first use when this process was launched by mpirun.
  static Cluster& get();
  // Ends MPI (at exit from main); harmless when MPI never started.
  static void shutdown();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  // [begin, end) of `rows` for this rank: contiguous, in rank order, sizes differ by ≤ 1.
  std::pair<uint64_t, uint64_t> share(uint64_t rows) const;

  // Rank 0 receives every rank's bytes, in rank order; the others receive nothing.
  std::vector<std::string> gather(const std::string& bytes) const;
  // Every rank receives rank 0's bytes.
  std::string broadcast(const std::string& bytes) const;
  // Every rank passes its own error ("" if none). If any rank failed, every rank throws
  // Error(kRun) naming the failed ranks and their messages (rank 0's is the one shown).
  void check_all(const std::string& local_error) const;

  // Runs `work` on this rank, then the ranks agree on how it went: alone, a failure propagates
  // as it is; under mpirun, a failure on any rank throws on every rank (check_all), so that no
  // rank waits at a later collective for one that gave up. Every rank must call it.
  template <typename Work>
  void agree(Work&& work) const {
    std::string error;
    try {
      work();
    } catch (const std::exception& e) {
      if (size_ == 1) throw;
      error = e.what();
    }
    if (size_ > 1) check_all(error);
  }

 private:
  Cluster();
  int rank_ = 0;
  int size_ = 1;
  bool mpi_ = false;
};

}  // namespace deft::parallel
