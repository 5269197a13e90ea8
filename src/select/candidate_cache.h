#pragma once
// Each pass of a subset's matching asks for every unsatisfied target's k nearest open pool
// rows, k growing pass by pass while the open rows only shrink (selected files close). A list
// searched once, deep enough for the last pass, answers later passes exactly: the first k of
// its rows that are still open are the k nearest open rows, because every open row outside
// the list lies behind all of the list's rows. Only a target whose list has run short (and
// did not cover every row open when it was searched) is searched again, at the depth the
// caller names. Results are the same as searching every pass.
//
//   CandidateCache cache(pool_rows_upper_bound);
//   auto lists = cache.nearest(targets, open_rows, k, deep_k, search);

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "select/matching.h"

namespace deft::select {

class CandidateCache {
 public:
  // `rows`: one more than the largest pool row that will be open.
  explicit CandidateCache(uint64_t rows) : open_(rows, false) {}

  // Per target (in `targets` order), its k nearest among `open_rows` (ascending), nearest
  // first, ties by pool row. Targets not answerable from earlier lists are searched with
  // `search` at depth min(deep_k, open rows).
  std::vector<std::vector<Candidate>> nearest(const std::vector<size_t>& targets,
                                              const std::vector<uint64_t>& open_rows, size_t k,
                                              size_t deep_k, const NearestFn& search);
  size_t searches() const { return searches_; }
  // Lists searched ahead (over a superset of every later open set) for these targets.
  void seed(const SeedLists& seed);

 private:
  struct List {
    std::vector<Candidate> rows;  // nearest first
    bool complete = false;        // held every row open when it was searched
  };
  bool answer(const List& list, size_t k, std::vector<Candidate>& out) const;

  std::vector<bool> open_;
  std::unordered_map<size_t, List> lists_;
  size_t searches_ = 0;
};

}  // namespace deft::select
