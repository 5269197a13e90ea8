#include "select/candidate_cache.h"

#include <algorithm>

#include "common/error.h"

namespace deft::select {

bool CandidateCache::answer(const List& list, size_t k, std::vector<Candidate>& out) const {
  out.clear();
  for (const Candidate& c : list.rows) {
    if (out.size() == k) break;
    if (open_[c.pool_row]) out.push_back(c);
  }
  return out.size() == k || list.complete;
}

void CandidateCache::seed(const SeedLists& seed) {
  DEFT_ASSERT(seed.lists.size() == seed.targets.size(), "one list per seeded target");
  for (size_t i = 0; i < seed.targets.size(); ++i)
    lists_[seed.targets[i]] = {seed.lists[i], seed.complete};
}

std::vector<std::vector<Candidate>> CandidateCache::nearest(const std::vector<size_t>& targets,
                                                            const std::vector<uint64_t>& open_rows,
                                                            size_t k, size_t deep_k,
                                                            const NearestFn& search) {
  std::fill(open_.begin(), open_.end(), false);
  for (uint64_t row : open_rows) {
    DEFT_ASSERT(row < open_.size(), "open rows lie in the cache's range");
    open_[row] = true;
  }
  std::vector<std::vector<Candidate>> out(targets.size());
  std::vector<size_t> missing;  // positions in `targets`
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto it = lists_.find(targets[i]);
    if (it == lists_.end() || !answer(it->second, k, out[i])) missing.push_back(i);
  }
  if (missing.empty()) return out;
  std::vector<size_t> which;
  for (size_t i : missing)
    which.push_back(targets[i]);
  const size_t depth = std::min(std::max(deep_k, k), open_rows.size());
  std::vector<std::vector<Candidate>> found = search(which, open_rows, depth);
  ++searches_;
  DEFT_ASSERT(found.size() == which.size(), "one list per searched target");
  for (size_t j = 0; j < missing.size(); ++j) {
    List& list = lists_[which[j]];
    list.rows = std::move(found[j]);
    list.complete = depth == open_rows.size();
    const bool answered = answer(list, k, out[missing[j]]);
    DEFT_ASSERT(answered, "a fresh search answers its own pass");
  }
  return out;
}

}  // namespace deft::select
