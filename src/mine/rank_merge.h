#pragma once
// Under mpirun each rank searches its share of the pool; rank 0 merges every rank's per-target
// lists into the global top-n, ordered as one process would order them (distance, then pool
// row), and learns what the outputs need of the other ranks' rows.
//
//   results = merge_on_root(cluster, local_results, seen, job.topn);   // empty on other ranks

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/exact_search.h"

namespace deft::parallel {
class Cluster;
}

namespace deft::mine {

// What the outputs need of a pool row that is, or was, among some target's best.
struct PoolRowInfo {
  std::string path;
  std::optional<std::string> label;
};

// Gathers every rank's per-target neighbours (and what the outputs need of their rows) on rank
// 0 and keeps the topn nearest by (distance, pool row). Rank 0 gets the merged lists and `seen`
// extended with the other ranks' rows; the other ranks get an empty result.
std::vector<std::vector<index::Neighbor>> merge_on_root(
    const parallel::Cluster& cluster, const std::vector<std::vector<index::Neighbor>>& local,
    std::unordered_map<uint64_t, PoolRowInfo>& seen, size_t topn);

}  // namespace deft::mine
