#pragma once
// An approximate index from a FAISS factory string ("HNSW32", "IVF4096,Flat"), for pools too
// large to scan: the whole pool is held in memory (the index needs it, and so does re-scoring).
// Candidates come from the index; their distances are re-computed exactly (exact_distance) and
// ordered as ExactSearch orders them. measure_recall compares with an exact search.
//
//   index::ApproximateSearch search(index::Metric::kCosine, dim, "HNSW32", "efSearch=64");
//   search.add(vectors, rows);   // the pool, in order
//   search.build();              // trains (IVF) and indexes
//   auto hits = search.search(targets, topn);
//   double recall = search.measure_recall(targets, topn, hits, /*sample=*/100);

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "index/exact_search.h"
#include "index/metric.h"

namespace faiss {
struct Index;
}

namespace deft::index {

class ApproximateSearch {
 public:
  // Throws Error(kUsage) when FAISS refuses the factory string or the parameters (the message
  // says which), or when the index cannot use this metric.
  ApproximateSearch(Metric metric, size_t dim, const std::string& factory,
                    const std::string& params);
  ~ApproximateSearch();
  ApproximateSearch(const ApproximateSearch&) = delete;
  ApproximateSearch& operator=(const ApproximateSearch&) = delete;

  // Appends pool vectors (normalised here for cosine).
  void add(const float* vectors, size_t rows);
  void build();
  uint64_t pool_rows() const { return pool_.size() / dim_; }

  // Per target (rows × dim floats), at most topn neighbours, nearest first.
  std::vector<std::vector<Neighbor>> search(const std::vector<float>& targets, size_t topn) const;

  // recall@topn of `hits` against an exact search, over `sample` targets spread evenly.
  double measure_recall(const std::vector<float>& targets, size_t topn,
                        const std::vector<std::vector<Neighbor>>& hits, size_t sample) const;

 private:
  Metric metric_;
  size_t dim_;
  std::string factory_;
  std::string params_;
  std::vector<float> pool_;
  std::unique_ptr<faiss::Index> index_;
};

}  // namespace deft::index
