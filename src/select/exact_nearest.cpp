#include "select/exact_nearest.h"

#include <algorithm>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "common/progress.h"
#include "index/exact_search.h"
#include "parallel/cluster.h"

namespace deft::select {

namespace {

using Lists = std::vector<std::vector<Candidate>>;

// Per target: its count, then (distance, pool row) pairs, as raw bytes.
std::string pack(const Lists& lists) {
  std::string bytes;
  const auto put = [&](const void* p, size_t n) { bytes.append(static_cast<const char*>(p), n); };
  for (const auto& list : lists) {
    const uint64_t n = list.size();
    put(&n, sizeof n);
    for (const Candidate& c : list) {
      put(&c.distance, sizeof c.distance);
      put(&c.pool_row, sizeof c.pool_row);
    }
  }
  return bytes;
}

Lists unpack(const std::string& bytes, size_t targets) {
  Lists lists(targets);
  size_t at = 0;
  const auto get = [&](void* p, size_t n) {
    std::memcpy(p, bytes.data() + at, n);
    at += n;
  };
  for (auto& list : lists) {
    uint64_t n = 0;
    get(&n, sizeof n);
    list.resize(n);
    for (Candidate& c : list) {
      get(&c.distance, sizeof c.distance);
      get(&c.pool_row, sizeof c.pool_row);
    }
  }
  return lists;
}

// Every rank's lists to rank 0, merged there by (distance, pool row) — the order one process
// would give — cut to k, and the result handed back to every rank, so that every rank's
// matcher takes the same steps.
Lists merge_across_ranks(const parallel::Cluster& cluster, const Lists& local, size_t k) {
  const std::vector<std::string> all = cluster.gather(pack(local));
  std::string merged;
  if (cluster.root()) {
    Lists lists(local.size());
    for (const std::string& bytes : all) {
      const Lists part = unpack(bytes, local.size());
      for (size_t t = 0; t < lists.size(); ++t)
        lists[t].insert(lists[t].end(), part[t].begin(), part[t].end());
    }
    for (auto& list : lists) {
      std::sort(list.begin(), list.end(), [](const Candidate& a, const Candidate& b) {
        return a.distance < b.distance || (a.distance == b.distance && a.pool_row < b.pool_row);
      });
      if (list.size() > k) list.resize(k);
    }
    merged = pack(lists);
  }
  return unpack(cluster.broadcast(merged), local.size());
}

}  // namespace

ManyNearestFn exact_nearest_many(const PoolTable& pool, const std::vector<float>& targets,
                                 size_t dim, index::Metric metric) {
  return [&pool, &targets, dim, metric](const std::vector<SearchRequest>& requests) {
    const parallel::Cluster& cluster = parallel::Cluster::get();
    std::vector<Lists> out(requests.size());
    cluster.agree([&] {  // a rank that fails (a bad row in its share) stops every rank
      struct Search {
        index::ExactSearch search;
        std::vector<bool> open;
        std::vector<float> gathered;
        std::vector<uint64_t> rows;
      };
      std::vector<Search> searches;
      std::vector<bool> any_open(pool.rows(), false);
      size_t targets_total = 0;
      for (const SearchRequest& r : requests) {
        std::vector<float> queries(r.targets.size() * dim);
        for (size_t i = 0; i < r.targets.size(); ++i)
          std::copy_n(targets.data() + r.targets[i] * dim, dim, queries.data() + i * dim);
        searches.push_back(
            {index::ExactSearch(metric, dim, std::move(queries), r.k, /*normalized=*/true),
             std::vector<bool>(pool.rows(), false),
             {},
             {}});
        for (uint64_t row : r.open_rows) {
          searches.back().open[row] = true;
          any_open[row] = true;
        }
        targets_total += r.targets.size();
      }
      size_t open_in_share = 0;
      for (uint64_t row = pool.share_begin(); row < pool.share_end(); ++row)
        open_in_share += any_open[row] ? 1 : 0;
      // A search of many targets over a large pool takes minutes: said as it goes.
      Progress progress(open_in_share, fmt::format("searching for {} targets", targets_total));
      pool.for_each_open_row(any_open, [&](const float* vectors, const uint64_t* rows, size_t n) {
        progress.advance(n);
        for (Search& s : searches) {
          // The batch as it is when the search wants all of it, else its own rows gathered.
          size_t wanted = 0;
          for (size_t i = 0; i < n; ++i)
            wanted += s.open[rows[i]] ? 1 : 0;
          if (wanted == n) {
            s.search.add_normalized_rows(vectors, rows, n);
            continue;
          }
          if (wanted == 0) continue;
          s.gathered.clear();
          s.rows.clear();
          for (size_t i = 0; i < n; ++i) {
            if (!s.open[rows[i]]) continue;
            s.gathered.insert(s.gathered.end(), vectors + i * dim, vectors + (i + 1) * dim);
            s.rows.push_back(rows[i]);
          }
          s.search.add_normalized_rows(s.gathered.data(), s.rows.data(), s.rows.size());
        }
      });
      for (size_t r = 0; r < requests.size(); ++r) {
        out[r].resize(requests[r].targets.size());
        for (size_t i = 0; i < requests[r].targets.size(); ++i) {
          for (const index::Neighbor& n : searches[r].search.results()[i])
            out[r][i].push_back({n.distance, n.pool_row});
        }
      }
    });
    if (cluster.size() > 1) {
      for (size_t r = 0; r < requests.size(); ++r)
        out[r] = merge_across_ranks(cluster, out[r], requests[r].k);
    }
    return out;
  };
}

NearestFn exact_nearest(const PoolTable& pool, const std::vector<float>& targets, size_t dim,
                        index::Metric metric) {
  ManyNearestFn many = exact_nearest_many(pool, targets, dim, metric);
  return [many = std::move(many)](const std::vector<size_t>& which,
                                  const std::vector<uint64_t>& open_rows, size_t k) {
    return std::move(many({{which, open_rows, k}}).front());
  };
}

}  // namespace deft::select
