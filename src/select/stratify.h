#pragma once
// class_stratified allocation, as the reference does it (tao-compat.md): each rare class gets
// the targets and pool rows whose detections contain it (an image with two rare classes is in
// both), `non_rare` the images with none (no detections count as none); the budget is split
// by each group's share of the targets with the largest-remainder method.
//
//   ClassGroups g = split_by_class(target_paths, pool_paths, pool_detections,
//                                  target_detections, {"bicycle", "bus"}, excluded_rows);
//   auto quotas = allocate_quotas({{"bicycle", 0.1}, {"bus", 0.2}, {"non_rare", 0.7}}, 100);

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "select/detections.h"

namespace deft::select {

struct Group {
  std::vector<size_t> targets;      // in input order
  std::vector<uint64_t> pool_rows;  // ascending; excluded rows left out
};

struct ClassGroups {
  std::map<std::string, Group> rare;  // every rare class, sorted (lower-case names)
  Group non_rare;
};

// `rare`: lower-case class names. `excluded[row]`: the pool row is excluded (exclude_path).
ClassGroups split_by_class(const std::vector<std::string>& target_paths,
                           const std::vector<std::string>& pool_paths,
                           const Detections& pool_detections, const Detections& target_detections,
                           const std::vector<std::string>& rare, const std::vector<bool>& excluded);

// The rare classes (lower-case) an image's detections contain; empty when none or no file.
std::vector<std::string> rare_classes_of(const Detections* detections, const std::string& path,
                                         const std::vector<std::string>& rare);

// Quotas summing exactly to `desired`: floor(desired × ratio / Σratios) each, the units left
// going one each to the largest fractional remainders, a tie to the later group name. All 0
// when desired is 0 or the ratios sum to 0. `ratios` in the order they are summed.
std::map<std::string, size_t> allocate_quotas(
    const std::vector<std::pair<std::string, double>>& ratios, size_t desired);

}  // namespace deft::select
