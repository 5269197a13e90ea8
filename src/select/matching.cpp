#include "select/matching.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <unordered_map>

#include "common/error.h"
#include "select/candidate_cache.h"

namespace deft::select {

PoolFiles PoolFiles::from_paths(const std::vector<std::string>& row_paths) {
  PoolFiles f;
  std::vector<uint32_t> order(row_paths.size());
  std::iota(order.begin(), order.end(), 0U);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return row_paths[a] < row_paths[b]; });
  f.file_of_row_.resize(row_paths.size());
  for (uint32_t row : order) {
    if (f.paths_.empty() || f.paths_.back() != row_paths[row]) f.paths_.push_back(row_paths[row]);
    f.file_of_row_[row] = static_cast<uint32_t>(f.paths_.size() - 1);
  }
  return f;
}

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kBudgetMet:
      return "budget_reached";
    case StopReason::kAllSatisfied:
      return "all_targets_satisfied";
    case StopReason::kNoTargets:
      return "no_targets";
    case StopReason::kPoolExhausted:
      return "pool_exhausted";
    case StopReason::kNoTargetSatisfied:
      return "no_target_satisfied";
    case StopReason::kNothingNew:
      return "nothing_new";
    case StopReason::kPassLimit:
      return "pass_limit";
  }
  return "unknown";
}

namespace {

// One pass: each target in order walks its candidates and tentatively takes the first topn
// distinct files not claimed in this pass; short of topn it releases them (rollback).
Pass run_pass(const std::vector<size_t>& targets,
              const std::vector<std::vector<Candidate>>& candidates, const PoolFiles& files,
              size_t topn, std::vector<size_t>& unsatisfied) {
  Pass pass;
  std::unordered_set<uint32_t> claimed;
  std::vector<Pick> tentative;
  for (size_t t = 0; t < targets.size(); ++t) {
    tentative.clear();
    for (const Candidate& c : candidates[t]) {
      if (tentative.size() >= topn) break;
      const uint32_t file = files.file_of(c.pool_row);
      if (claimed.count(file) > 0) continue;
      if (std::any_of(tentative.begin(), tentative.end(),
                      [&](const Pick& p) { return p.file == file; })) {
        continue;
      }
      tentative.push_back({c.pool_row, file, c.distance});
    }
    if (tentative.size() < topn) {
      unsatisfied.push_back(targets[t]);
      continue;
    }
    for (const Pick& p : tentative)
      claimed.insert(p.file);
    pass.satisfied.push_back({targets[t], tentative});
  }
  return pass;
}

// The pass's picks into the result by (best distance, filepath), up to `desired` files.
size_t merge_capped(const Pass& pass, size_t desired, std::vector<uint32_t>& retrieved,
                    std::unordered_set<uint32_t>& in_result) {
  std::vector<std::pair<double, uint32_t>> best;
  for (const SatisfiedTarget& s : pass.satisfied) {
    for (const Pick& p : s.picks)
      best.emplace_back(p.distance, p.file);
  }
  std::sort(best.begin(), best.end());
  size_t added = 0;
  for (const auto& [distance, file] : best) {
    if (retrieved.size() >= desired) break;
    if (!in_result.insert(file).second) continue;  // a file picked twice keeps its best
    retrieved.push_back(file);
    ++added;
  }
  return added;
}

}  // namespace

std::vector<size_t> first_pass_short(const SubsetRequest& request, const PoolFiles& files,
                                     const std::unordered_set<uint32_t>& taken) {
  if (request.targets.empty() || request.desired == 0) return {};
  const size_t topn = subset_topn(request.desired, request.targets.size());
  size_t open = 0;
  for (uint64_t row : request.pool_rows)
    open += taken.count(files.file_of(row)) == 0 ? 1 : 0;
  const size_t k = std::min(request.expansion * topn, open);
  std::unordered_map<size_t, std::pair<const std::vector<Candidate>*, bool>> seeded;
  for (const SeedLists& seed : request.seeds) {
    for (size_t i = 0; i < seed.targets.size(); ++i)
      seeded[seed.targets[i]] = {&seed.lists[i], seed.complete};
  }
  std::vector<std::vector<Candidate>> candidates(request.targets.size());
  std::vector<bool> unanswered(request.targets.size(), false);
  for (size_t t = 0; t < request.targets.size(); ++t) {
    const auto it = seeded.find(request.targets[t]);
    if (it != seeded.end()) {
      for (const Candidate& c : *it->second.first) {
        if (candidates[t].size() == k) break;
        if (taken.count(files.file_of(c.pool_row)) == 0) candidates[t].push_back(c);
      }
    }
    unanswered[t] = candidates[t].size() < k && (it == seeded.end() || !it->second.second);
  }
  std::vector<size_t> unsatisfied;
  const Pass pass = run_pass(request.targets, candidates, files, topn, unsatisfied);
  if (pass.satisfied.size() * topn >= request.desired) return {};
  // Both in the request's target order.
  std::vector<size_t> out;
  size_t u = 0;
  for (size_t t = 0; t < request.targets.size(); ++t) {
    const bool short_of_topn = u < unsatisfied.size() && unsatisfied[u] == request.targets[t];
    if (short_of_topn) ++u;
    if (unanswered[t] || short_of_topn) out.push_back(request.targets[t]);
  }
  return out;
}

SubsetResult match_subset(const SubsetRequest& request, const PoolFiles& files,
                          const std::unordered_set<uint32_t>& taken, const NearestFn& nearest) {
  SubsetResult result;
  if (request.targets.empty() || request.desired == 0) return result;
  result.topn = subset_topn(request.desired, request.targets.size());
  std::vector<size_t> remaining = request.targets;
  std::unordered_set<uint32_t> in_result;
  const uint64_t rows =
      request.pool_rows.empty()
          ? 0
          : *std::max_element(request.pool_rows.begin(), request.pool_rows.end()) + 1;
  CandidateCache cache(rows);
  for (const SeedLists& seed : request.seeds)
    cache.seed(seed);
  result.stop = StopReason::kPassLimit;
  for (int number = 1; number <= request.max_passes; ++number) {
    if (result.retrieved.size() >= request.desired) {
      result.stop = StopReason::kBudgetMet;
      break;
    }
    std::vector<uint64_t> open;
    for (uint64_t row : request.pool_rows) {
      const uint32_t file = files.file_of(row);
      if (taken.count(file) == 0 && in_result.count(file) == 0) open.push_back(row);
    }
    const size_t k =
        std::min(request.expansion * static_cast<size_t>(number) * result.topn, open.size());
    if (k == 0) {
      result.stop = StopReason::kPoolExhausted;
      break;
    }
    // Pass 1 searches as deep as it needs (most targets are satisfied there, and a deeper
    // search costs time); a target searched again later goes as deep as the last pass could
    // ask, so that the passes after answer it from its list.
    const auto pass_started = std::chrono::steady_clock::now();
    const size_t deep_k =
        number == 1 ? k : deepest_k(request.expansion, request.max_passes, result.topn);
    const std::vector<std::vector<Candidate>> candidates =
        cache.nearest(remaining, open, k, deep_k, nearest);
    DEFT_ASSERT(candidates.size() == remaining.size(), "one candidate list per target");
    std::vector<size_t> unsatisfied;
    Pass pass = run_pass(remaining, candidates, files, result.topn, unsatisfied);
    pass.number = number;
    pass.topn = result.topn;
    pass.k = k;
    pass.targets_searched = remaining.size();
    if (pass.satisfied.empty()) {
      result.stop = StopReason::kNoTargetSatisfied;
      break;
    }
    pass.merged = merge_capped(pass, request.desired, result.retrieved, in_result);
    pass.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - pass_started).count();
    result.passes.push_back(std::move(pass));
    remaining = std::move(unsatisfied);
    if (result.passes.back().merged == 0) {
      result.stop = StopReason::kNothingNew;
      break;
    }
    if (remaining.empty()) {
      result.stop = StopReason::kAllSatisfied;
      break;
    }
  }
  // A full budget is the reason worth saying, whichever condition ended the loop first.
  if (result.retrieved.size() >= request.desired) result.stop = StopReason::kBudgetMet;
  result.unsatisfied = std::move(remaining);
  return result;
}

}  // namespace deft::select
