#pragma once
// The numbers summary.json gives about a selection, as the reference computes them: per
// dataset (the targets, the selected files) how many images hold a rare class, and per class
// its images and boxes; per class subset the spread of each target's top-1 distance.
//
//   DatasetStats s = dataset_stats(paths, &detections, rare);
//   std::optional<DistanceStats> d = distance_stats({0.1, 0.4, 0.2});

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "select/detections.h"

namespace deft::select {

struct ClassCounts {
  size_t images = 0;     // distinct images with a box of the class
  size_t instances = 0;  // its boxes
};

struct DatasetStats {
  size_t total_images = 0;
  size_t rare_images = 0;
  size_t common_images = 0;
  size_t rare_instances = 0;  // Σ over images of the distinct rare classes each holds
  std::map<std::string, ClassCounts> per_class;  // class as spelled in the file
};

// `paths`: distinct. `detections` null: no file (every image common, no classes). `rare`
// empty: every image common.
DatasetStats dataset_stats(const std::vector<std::string>& paths, const Detections* detections,
                           const std::vector<std::string>& rare);

struct DistanceStats {
  size_t count = 0;
  double min = 0, max = 0, mean = 0, median = 0, std = 0, p25 = 0, p75 = 0;
};

// numpy's: std is the population std; percentiles interpolate linearly. nullopt when empty.
std::optional<DistanceStats> distance_stats(std::vector<double> values);

}  // namespace deft::select
