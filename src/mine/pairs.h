#pragma once
// From the search's neighbour lists to the mined list, as pure functions (no files):
//
//   std::vector<Pair> pairs = judge_pairs(results, target_labels, pool_label_of, filter, counts);
//   MinedList list = dedup_by_file(pairs, file_of);   // one row per file, first appearance
//
// judge_pairs marks each (target, neighbour) pair kept or why it is dropped (the label filter
// of label_mode=after, then distance_threshold), in target order, then rank. dedup_by_file
// walks the kept pairs in that order: each file is mined once, at its first appearance, with
// its nearest target as provenance; rows naming one file (however spelled) are one image.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "index/exact_search.h"
#include "mine/labels.h"

namespace deft::mine {

enum class DropReason { kKept, kLabel, kThreshold, kCap };

// "label", "threshold", "cap" (the pairs file's dropped_by); nullopt for a kept pair.
std::optional<std::string> drop_reason_name(DropReason reason);

struct Pair {
  size_t target;
  index::Neighbor neighbour;
  int rank;  // 1 = nearest
  DropReason dropped_by = DropReason::kKept;
};

struct PairFilter {
  bool by_label = false;  // label_mode=after: pairs whose labels differ are dropped
  LabelCompare compare = LabelCompare::kReference;
  double distance_threshold = -1.0;  // negative: off
};

struct PairCounts {
  uint64_t dropped_by_label = 0;
  uint64_t dropped_by_threshold = 0;
  uint64_t null_label_pairs = 0;  // judged by the label filter with a NULL label on a side
};

std::vector<Pair> judge_pairs(
    const std::vector<std::vector<index::Neighbor>>& results,
    const std::vector<std::optional<std::string>>& target_labels,
    const std::function<const std::optional<std::string>&(uint64_t pool_row)>& pool_label,
    const PairFilter& filter, PairCounts& counts);

struct MinedImage {
  uint64_t pool_row;   // the first row naming the file
  const Pair* best;    // its nearest pair (the earlier target on a tie)
  int64_t hits;        // distinct targets that kept it
  size_t last_target;  // internal: pairs come in target order, a target counts once
};

struct MinedList {
  std::vector<MinedImage> images;  // in order of first appearance
  uint64_t kept_pairs = 0;
  uint64_t same_file_rows = 0;  // rows mined as one with an earlier row naming the same file
  uint64_t duplicates_removed() const { return kept_pairs - images.size(); }
};

// max_pool_fraction: keeps `allowance` of the list's images, nearest ranks first (an image's
// rank is the smallest of its kept pairs': every target's rank-1 image, then rank 2 …; on one
// rank, the earlier in the list), and marks the
// pairs of the others DropReason::kCap. Returns how many images it dropped; dedup_by_file
// again gives the capped list.
uint64_t cap_mined(std::vector<Pair>& pairs, const MinedList& list, uint64_t allowance,
                   const std::function<std::string(uint64_t pool_row)>& file_of);

// `file_of(pool_row)`: the file the row names, resolved and normalised. `pairs` must outlive
// the result (it points into them).
MinedList dedup_by_file(const std::vector<Pair>& pairs,
                        const std::function<std::string(uint64_t pool_row)>& file_of);

}  // namespace deft::mine
