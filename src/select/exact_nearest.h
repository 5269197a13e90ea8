#pragma once
// The search each matching pass asks for (matching.h's NearestFn), done exactly over the pool
// table: the pass's targets against only its open rows, block by block, so the pool never
// needs to be in memory (index::ExactSearch: FAISS candidates re-scored in double, ties by
// pool row).
//
//   NearestFn nearest = exact_nearest(pool, targets, dim, index::Metric::kEuclidean);

#include <cstddef>
#include <vector>

#include "index/metric.h"
#include "select/matching.h"
#include "select/pool_table.h"

namespace deft::select {

// `targets`: every target's normalised vector (rows × dim), kept by reference.
// Several requests share one read of the pool (each still searches only its own open rows).
ManyNearestFn exact_nearest_many(const PoolTable& pool, const std::vector<float>& targets,
                                 size_t dim, index::Metric metric);
NearestFn exact_nearest(const PoolTable& pool, const std::vector<float>& targets, size_t dim,
                        index::Metric metric);

}  // namespace deft::select
