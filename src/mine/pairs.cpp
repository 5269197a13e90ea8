#include "mine/pairs.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace deft::mine {

std::optional<std::string> drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::kKept:
      return std::nullopt;
    case DropReason::kLabel:
      return "label";
    case DropReason::kThreshold:
      return "threshold";
    case DropReason::kCap:
      return "cap";
  }
  return std::nullopt;
}

std::vector<Pair> judge_pairs(
    const std::vector<std::vector<index::Neighbor>>& results,
    const std::vector<std::optional<std::string>>& target_labels,
    const std::function<const std::optional<std::string>&(uint64_t pool_row)>& pool_label,
    const PairFilter& filter, PairCounts& counts) {
  std::vector<Pair> pairs;
  for (size_t q = 0; q < results.size(); ++q) {
    for (size_t j = 0; j < results[q].size(); ++j) {
      Pair p{q, results[q][j], static_cast<int>(j + 1)};
      if (filter.by_label) {
        const std::optional<std::string>& theirs = pool_label(p.neighbour.pool_row);
        if (!target_labels[q] || !theirs) ++counts.null_label_pairs;
        if (!labels_match(target_labels[q], theirs, filter.compare)) {
          p.dropped_by = DropReason::kLabel;
          ++counts.dropped_by_label;
        }
      }
      if (p.dropped_by == DropReason::kKept && filter.distance_threshold >= 0 &&
          p.neighbour.distance > filter.distance_threshold) {
        p.dropped_by = DropReason::kThreshold;
        ++counts.dropped_by_threshold;
      }
      pairs.push_back(p);
    }
  }
  return pairs;
}

MinedList dedup_by_file(const std::vector<Pair>& pairs,
                        const std::function<std::string(uint64_t pool_row)>& file_of) {
  MinedList list;
  std::unordered_map<std::string, size_t> position;       // file → its image
  std::unordered_map<uint64_t, std::string> file_of_row;  // computed once per row
  for (const Pair& p : pairs) {
    if (p.dropped_by != DropReason::kKept) continue;
    ++list.kept_pairs;
    auto [row, new_row] = file_of_row.try_emplace(p.neighbour.pool_row);
    if (new_row) row->second = file_of(p.neighbour.pool_row);
    const auto [it, inserted] = position.try_emplace(row->second, list.images.size());
    if (inserted) {
      list.images.push_back({p.neighbour.pool_row, &p, 1, p.target});
      continue;
    }
    MinedImage& m = list.images[it->second];
    if (new_row) ++list.same_file_rows;  // another row naming a file already mined
    if (m.last_target != p.target) ++m.hits;
    m.last_target = p.target;
    if (p.neighbour.distance < m.best->neighbour.distance) m.best = &p;
  }
  return list;
}

uint64_t cap_mined(std::vector<Pair>& pairs, const MinedList& list, uint64_t allowance,
                   const std::function<std::string(uint64_t pool_row)>& file_of) {
  if (list.images.size() <= allowance) return 0;
  // Each image's best rank: the smallest rank of any kept pair naming its file.
  std::unordered_map<std::string, int> best_rank;
  for (const Pair& p : pairs) {
    if (p.dropped_by != DropReason::kKept) continue;
    const auto [it, inserted] = best_rank.try_emplace(file_of(p.neighbour.pool_row), p.rank);
    if (!inserted) it->second = std::min(it->second, p.rank);
  }
  std::vector<int> rank_of(list.images.size());
  for (size_t i = 0; i < list.images.size(); ++i)
    rank_of[i] = best_rank.at(file_of(list.images[i].pool_row));
  std::vector<size_t> order(list.images.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rank_of[a] < rank_of[b]; });
  std::unordered_set<std::string> dropped;
  for (size_t i = allowance; i < order.size(); ++i)
    dropped.insert(file_of(list.images[order[i]].pool_row));
  for (Pair& p : pairs) {
    if (p.dropped_by == DropReason::kKept && dropped.count(file_of(p.neighbour.pool_row)) > 0)
      p.dropped_by = DropReason::kCap;
  }
  return dropped.size();
}

}  // namespace deft::mine
