#include "select/exact_nearest.h"

#include <algorithm>

#include "index/exact_search.h"

namespace deft::select {

NearestFn exact_nearest(const PoolTable& pool, const std::vector<float>& targets, size_t dim,
                        index::Metric metric) {
  return [&pool, &targets, dim, metric](const std::vector<size_t>& which,
                                        const std::vector<uint64_t>& open_rows, size_t k) {
    std::vector<float> queries(which.size() * dim);
    for (size_t i = 0; i < which.size(); ++i)
      std::copy_n(targets.data() + which[i] * dim, dim, queries.data() + i * dim);
    index::ExactSearch search(metric, dim, std::move(queries), k, /*normalized=*/true);
    std::vector<bool> open(pool.rows(), false);
    for (uint64_t row : open_rows)
      open[row] = true;
    std::vector<float> gathered;
    std::vector<uint64_t> rows;
    pool.for_each_block([&](const float* vectors, uint64_t first_row, size_t n) {
      gathered.clear();
      rows.clear();
      for (size_t i = 0; i < n; ++i) {
        if (!open[first_row + i]) continue;
        gathered.insert(gathered.end(), vectors + i * dim, vectors + (i + 1) * dim);
        rows.push_back(first_row + i);
      }
      search.add_rows(gathered.data(), rows.data(), rows.size());
    });
    std::vector<std::vector<Candidate>> out(which.size());
    for (size_t i = 0; i < which.size(); ++i) {
      for (const index::Neighbor& n : search.results()[i])
        out[i].push_back({n.distance, n.pool_row});
    }
    return out;
  };
}

}  // namespace deft::select
