#pragma once
// Budgeted one-to-one matching of pool files to targets (`tmm unique_neighbor_matching`), as
// the reference does it (tao-compat.md): passes over the targets still unsatisfied, each
// target claiming its first `topn` distinct unclaimed files among its k nearest pool rows or
// releasing them all, and the pass's claims merged into the result by (distance, filepath)
// up to the budget. Pure: the search is a callback, so the rules are tested in-process.
//
//   PoolFiles files = PoolFiles::from_paths(paths);                 // rows naming one file
//   SubsetResult r = match_subset({.targets = all, .pool_rows = open, .desired = 100},
//                                 files, /*taken=*/{}, search);
//   for (uint32_t f : r.retrieved) ... files.path(f) ...

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

namespace deft::select {

// The pool's rows and the files they name: rows with the same filepath text are one file.
// File ids follow the filepath's byte order, so comparing ids compares paths (the reference's
// tie-break: Python sorts str by code point, which UTF-8 byte order preserves).
class PoolFiles {
 public:
  static PoolFiles from_paths(const std::vector<std::string>& row_paths);
  size_t rows() const { return file_of_row_.size(); }
  size_t files() const { return paths_.size(); }
  uint32_t file_of(uint64_t row) const { return file_of_row_[row]; }
  const std::string& path(uint32_t file) const { return paths_[file]; }
  const std::string& row_path(uint64_t row) const { return paths_[file_of_row_[row]]; }

 private:
  std::vector<std::string> paths_;  // sorted, distinct
  std::vector<uint32_t> file_of_row_;
};

struct Candidate {
  double distance;
  uint64_t pool_row;
};

// For each of `targets` (indices into the run's targets), its `k` nearest among `open_rows`
// (ascending pool rows), nearest first, ties by pool row.
using NearestFn = std::function<std::vector<std::vector<Candidate>>(
    const std::vector<size_t>& targets, const std::vector<uint64_t>& open_rows, size_t k)>;

// Several searches done together (one read of the pool feeds them all).
struct SearchRequest {
  std::vector<size_t> targets;
  std::vector<uint64_t> open_rows;  // ascending
  size_t k = 0;
};
using ManyNearestFn = std::function<std::vector<std::vector<std::vector<Candidate>>>(
    const std::vector<SearchRequest>& requests)>;

// Candidate lists searched ahead for a subset's targets over a superset of every row its
// passes will find open (class_stratified searches every subset in one read of the pool),
// nearest first; `complete` when each list holds every row it was searched over.
struct SeedLists {
  std::vector<size_t> targets;
  std::vector<std::vector<Candidate>> lists;  // per target
  bool complete = false;
};

struct Pick {
  uint64_t pool_row;
  uint32_t file;
  double distance;
};

struct SatisfiedTarget {
  size_t target;            // index into the run's targets
  std::vector<Pick> picks;  // topn, in rank order
};

struct Pass {
  int number = 0;  // from 1
  size_t topn = 0;
  size_t k = 0;  // how deep the search went
  size_t targets_searched = 0;
  std::vector<SatisfiedTarget> satisfied;  // in target order
  size_t merged = 0;                       // of the pass's picks, how many entered the result
  double seconds = 0;  // wall time of its search and walk: said in the log, not in the outputs
};

// Why a subset's matching stopped: the reference's loop conditions, named.
enum class StopReason {
  kBudgetMet,          // the result holds the subset's budget
  kAllSatisfied,       // every target filled its topn
  kNoTargets,          // the subset has no targets (or a budget of 0)
  kPoolExhausted,      // no open pool row was left to search
  kNoTargetSatisfied,  // a pass in which no target could fill its topn
  kNothingNew,         // a pass added no file to the result
  kPassLimit,          // max_passes ran
};
const char* stop_reason_name(StopReason reason);

struct SubsetRequest {
  std::vector<size_t> targets;      // in input order
  std::vector<uint64_t> pool_rows;  // the subset's pool, ascending
  size_t desired = 0;
  size_t expansion = 5;  // candidate_expansion_factor
  int max_passes = 8;
  // Lists to answer passes from before any search, applied in order (a later list for a
  // target replaces an earlier one).
  std::span<const SeedLists> seeds;
};

// The depth a subset's later passes may ask for (what a seed or a repeated search goes to).
inline size_t deepest_k(size_t expansion, int max_passes, size_t topn) {
  return expansion * static_cast<size_t>(max_passes) * topn;
}
// A subset's topn: its budget spread over its targets, rounded up.
inline size_t subset_topn(size_t desired, size_t targets) {
  return targets == 0 ? 0 : std::max<size_t>(1, (desired + targets - 1) / targets);
}

// Which of a seeded subset's targets its first pass would leave short of topn, the pool as
// `taken` leaves it, answered from the seed lists alone (a target they cannot answer counts as
// short): the targets a second pass would search. Empty when the first pass alone would fill
// the budget. A forecast for searching ahead — the pass itself decides.
std::vector<size_t> first_pass_short(const SubsetRequest& request, const PoolFiles& files,
                                     const std::unordered_set<uint32_t>& taken);

struct SubsetResult {
  size_t topn = 0;
  std::vector<Pass> passes;         // those that satisfied a target (each written out)
  std::vector<uint32_t> retrieved;  // files, in the order they were merged
  std::vector<size_t> unsatisfied;  // targets left without their topn at the end
  StopReason stop = StopReason::kNoTargets;
};

// `taken`: files already owned (excluded pool entries, earlier subsets' results); never
// offered. The subset's own results are excluded from its later passes.
SubsetResult match_subset(const SubsetRequest& request, const PoolFiles& files,
                          const std::unordered_set<uint32_t>& taken, const NearestFn& nearest);

}  // namespace deft::select
