#include "select/stats.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "select/stratify.h"

namespace deft::select {

DatasetStats dataset_stats(const std::vector<std::string>& paths, const Detections* detections,
                           const std::vector<std::string>& rare) {
  DatasetStats s;
  s.total_images = paths.size();
  std::map<std::string, std::set<std::string>> images_of_class;
  for (const std::string& path : paths) {
    const size_t hits = rare.empty() ? 0 : rare_classes_of(detections, path, rare).size();
    s.rare_instances += hits;
    (hits > 0 ? s.rare_images : s.common_images) += 1;
    const ImageDetections* image = detections ? detections->find(path) : nullptr;
    if (image == nullptr) continue;
    for (const Box& box : image->boxes) {
      ++s.per_class[box.class_name].instances;
      images_of_class[box.class_name].insert(path);
    }
  }
  for (auto& [name, counts] : s.per_class)
    counts.images = images_of_class[name].size();
  return s;
}

namespace {

double percentile(const std::vector<double>& sorted, double q) {
  const double at = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double t = at - static_cast<double>(lo);
  // numpy's _lerp: from the nearer end, so t = 1 gives the upper value exactly.
  return t >= 0.5 ? sorted[hi] - (sorted[hi] - sorted[lo]) * (1.0 - t)
                  : sorted[lo] + (sorted[hi] - sorted[lo]) * t;
}

}  // namespace

std::optional<DistanceStats> distance_stats(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  DistanceStats d;
  d.count = values.size();
  double sum = 0;
  for (double v : values)
    sum += v;
  d.mean = sum / static_cast<double>(values.size());
  double squares = 0;
  for (double v : values)
    squares += (v - d.mean) * (v - d.mean);
  d.std = std::sqrt(squares / static_cast<double>(values.size()));
  std::sort(values.begin(), values.end());
  d.min = values.front();
  d.max = values.back();
  const size_t n = values.size();
  d.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
  d.p25 = percentile(values, 25);
  d.p75 = percentile(values, 75);
  return d;
}

}  // namespace deft::select
