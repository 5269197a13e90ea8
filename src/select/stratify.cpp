#include "select/stratify.h"

#include <algorithm>
#include <cmath>

#include "common/text.h"

namespace deft::select {

std::vector<std::string> rare_classes_of(const Detections* detections, const std::string& path,
                                         const std::vector<std::string>& rare) {
  std::vector<std::string> hits;
  if (detections == nullptr) return hits;
  const ImageDetections* image = detections->find(path);
  if (image == nullptr) return hits;
  for (const std::string& c : image->classes) {
    const std::string lower = ascii_lower(c);
    if (std::binary_search(rare.begin(), rare.end(), lower) &&
        std::find(hits.begin(), hits.end(), lower) == hits.end())
      hits.push_back(lower);
  }
  std::sort(hits.begin(), hits.end());
  return hits;
}

ClassGroups split_by_class(const std::vector<std::string>& target_paths,
                           const std::vector<std::string>& pool_paths,
                           const Detections& pool_detections, const Detections& target_detections,
                           const std::vector<std::string>& rare,
                           const std::vector<bool>& excluded) {
  ClassGroups g;
  for (const std::string& c : rare)
    g.rare[c];
  for (size_t t = 0; t < target_paths.size(); ++t) {
    const auto hits = rare_classes_of(&target_detections, target_paths[t], rare);
    for (const std::string& c : hits)
      g.rare[c].targets.push_back(t);
    if (hits.empty()) g.non_rare.targets.push_back(t);
  }
  for (uint64_t row = 0; row < pool_paths.size(); ++row) {
    if (excluded[row]) continue;
    const auto hits = rare_classes_of(&pool_detections, pool_paths[row], rare);
    for (const std::string& c : hits)
      g.rare[c].pool_rows.push_back(row);
    if (hits.empty()) g.non_rare.pool_rows.push_back(row);
  }
  return g;
}

std::map<std::string, size_t> allocate_quotas(
    const std::vector<std::pair<std::string, double>>& ratios, size_t desired) {
  std::map<std::string, size_t> quota;
  double total = 0;
  for (const auto& [name, ratio] : ratios)
    total += ratio;
  for (const auto& [name, ratio] : ratios)
    quota[name] = 0;
  if (desired == 0 || !(total > 0)) return quota;
  std::vector<std::pair<double, std::string>> remainders;  // (fraction, name)
  size_t given = 0;
  for (const auto& [name, ratio] : ratios) {
    const double ideal = static_cast<double>(desired) * ratio / total;
    quota[name] = static_cast<size_t>(std::floor(ideal));
    given += quota[name];
    remainders.emplace_back(ideal - std::floor(ideal), name);
  }
  // Largest remainder first; a tie goes to the later name (the reference sorts (remainder,
  // name) in reverse).
  std::sort(remainders.begin(), remainders.end(), std::greater<>());
  for (size_t i = 0; i < remainders.size() && given < desired; ++i, ++given)
    ++quota[remainders[i].second];
  return quota;
}

}  // namespace deft::select
