// ExactSearch's cosine and euclidean path (fp32 candidates with a proven bound, then exact
// re-scoring) against a brute force written here: every pool row scored in double over the
// same stored floats, sorted by (distance, row). Equality is exact — rows and distances bit
// for bit — on near-ties far below fp32 resolution, exact duplicates, several target and pool
// chunks, and blocks of any size; and the bound is shown to prune (few rows re-scored).
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "index/bounded_candidates.h"
#include "index/exact_search.h"

namespace deft {
namespace {

using index::Metric;
using index::Neighbor;

// The textbook distances in double over the floats as stored (what exact_distance promises).
double brute_distance(Metric metric, const float* a, const float* b, size_t dim) {
  double sum = 0;
  for (size_t k = 0; k < dim; ++k) {
    if (metric == Metric::kCosine) {
      sum += static_cast<double>(a[k]) * static_cast<double>(b[k]);
    } else {
      const double d = static_cast<double>(a[k]) - static_cast<double>(b[k]);
      sum += d * d;
    }
  }
  return metric == Metric::kCosine ? 1.0 - sum : std::sqrt(sum);
}

std::vector<std::vector<Neighbor>> brute_force(Metric metric, const std::vector<float>& targets,
                                               const std::vector<float>& pool, size_t dim,
                                               size_t topn) {
  const size_t nt = targets.size() / dim, np = pool.size() / dim;
  std::vector<std::vector<Neighbor>> out(nt);
  for (size_t t = 0; t < nt; ++t) {
    std::vector<Neighbor> all;
    for (size_t r = 0; r < np; ++r)
      all.push_back({brute_distance(metric, &targets[t * dim], &pool[r * dim], dim), r});
    std::sort(all.begin(), all.end(), [](const Neighbor& a, const Neighbor& b) {
      return a.distance < b.distance || (a.distance == b.distance && a.pool_row < b.pool_row);
    });
    all.resize(std::min(topn, all.size()));
    out[t] = all;
  }
  return out;
}

// Searches `pool` streamed in blocks of `block` rows (a copy: add_block may change them).
index::ExactSearch search(Metric metric, const std::vector<float>& targets, std::vector<float> pool,
                          size_t dim, size_t topn, size_t block) {
  index::ExactSearch s(metric, dim, targets, topn, /*normalized=*/true);
  const size_t rows = pool.size() / dim;
  for (size_t r0 = 0; r0 < rows; r0 += block)
    s.add_block(pool.data() + r0 * dim, std::min(block, rows - r0));
  return s;
}

void expect_identical(const std::vector<std::vector<Neighbor>>& got,
                      const std::vector<std::vector<Neighbor>>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t t = 0; t < want.size(); ++t) {
    ASSERT_EQ(got[t].size(), want[t].size()) << "target " << t;
    for (size_t i = 0; i < want[t].size(); ++i) {
      EXPECT_EQ(got[t][i].pool_row, want[t][i].pool_row) << "target " << t << " rank " << i;
      EXPECT_EQ(got[t][i].distance, want[t][i].distance) << "target " << t << " rank " << i;
    }
  }
}

void normalize(std::vector<float>& v, size_t dim) {
  for (size_t r = 0; r < v.size() / dim; ++r) {
    double n = 0;
    for (size_t k = 0; k < dim; ++k)
      n += static_cast<double>(v[r * dim + k]) * v[r * dim + k];
    for (size_t k = 0; k < dim; ++k)
      v[r * dim + k] = static_cast<float>(v[r * dim + k] / std::sqrt(n));
  }
}

// 64 clustered rows per centre, as embeddings cluster; unit length for cosine.
std::vector<float> clustered(size_t rows, size_t dim, unsigned seed, bool unit) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> centres(8 * dim);
  for (float& c : centres)
    c = normal(rng);
  std::vector<float> v(rows * dim);
  for (size_t r = 0; r < rows; ++r) {
    const size_t c = rng() % 8;
    for (size_t k = 0; k < dim; ++k)
      v[r * dim + k] = centres[c * dim + k] + 0.5f * normal(rng);
  }
  if (unit) normalize(v, dim);
  return v;
}

class BoundedSearch : public ::testing::TestWithParam<Metric> {};

INSTANTIATE_TEST_SUITE_P(Metrics, BoundedSearch,
                         ::testing::Values(Metric::kCosine, Metric::kEuclidean),
                         [](const auto& info) {
                           return std::string(index::metric_name(info.param));
                         });

// 300 pool rows that differ from one base vector by one float ulp in a few components: their
// distances to the target differ by ~1e-9, far below fp32's inner-product resolution, so fp32
// ranks them at random; plus exact duplicates (ties go to the earlier row) and ordinary rows.
TEST_P(BoundedSearch, NearTiesBelowFloatResolutionComeOutInExactOrder) {
  const Metric metric = GetParam();
  constexpr size_t kDim = 768, kTopn = 10;
  std::mt19937 rng(11);
  std::vector<float> pool = clustered(2500, kDim, 3, metric == Metric::kCosine);
  const std::vector<float> base(pool.begin(), pool.begin() + kDim);
  for (size_t r = 100; r < 400; ++r) {
    std::copy(base.begin(), base.end(), pool.begin() + r * kDim);
    for (int n = 0; n < 3; ++n) {
      float& x = pool[r * kDim + rng() % kDim];
      x = std::nextafter(x, (rng() & 1) ? 1.f : -1.f);
    }
  }
  for (size_t r = 400; r < 420; ++r)  // exact duplicates of row 100
    std::copy(pool.begin() + 100 * kDim, pool.begin() + 101 * kDim, pool.begin() + r * kDim);
  // Targets: the base itself, one near it, and clustered ones.
  std::vector<float> targets = clustered(30, kDim, 5, metric == Metric::kCosine);
  std::copy(base.begin(), base.end(), targets.begin());
  std::copy(base.begin(), base.end(), targets.begin() + kDim);
  targets[kDim + 7] = std::nextafter(targets[kDim + 7], 2.f);
  const auto want = brute_force(metric, targets, pool, kDim, kTopn);
  // The case is what it says: the base target's ten nearest are all near-ties of the base.
  for (const Neighbor& n : want[0])
    ASSERT_TRUE(n.pool_row == 0 || (n.pool_row >= 100 && n.pool_row < 420)) << n.pool_row;
  for (size_t block : {2500, 777, 64}) {
    SCOPED_TRACE(block);
    expect_identical(search(metric, targets, pool, kDim, kTopn, block).results(), want);
  }
}

// More targets than one packed chunk and more pool rows than one scored chunk, blocks that
// cut both, a topn deeper than a small block: the same answer, and most rows never re-scored.
TEST_P(BoundedSearch, ManyTargetsAndChunksEqualBruteForceAndMostRowsArePruned) {
  const Metric metric = GetParam();
  constexpr size_t kDim = 32, kTopn = 25;
  const size_t targets_n = index::BoundedCandidates::kTargetChunk + 37;
  const size_t pool_n = index::BoundedCandidates::kPoolChunk * 2 + 123;
  const std::vector<float> targets = clustered(targets_n, kDim, 21, metric == Metric::kCosine);
  const std::vector<float> pool = clustered(pool_n, kDim, 22, metric == Metric::kCosine);
  const auto want = brute_force(metric, targets, pool, kDim, kTopn);
  for (size_t block : {pool_n, size_t{3000}, size_t{20}}) {
    SCOPED_TRACE(block);
    const index::ExactSearch s = search(metric, targets, pool, kDim, kTopn, block);
    expect_identical(s.results(), want);
    if (block == pool_n) {
      // Whole chunks: the first fills each target's 25 from its chunk's best keys, later ones
      // re-score only rows that can still compete (here under a fifth of all pairs).
      EXPECT_LT(s.rescored(), targets_n * pool_n / 5) << s.rescored();
    }
  }
}

TEST_P(BoundedSearch, APoolSmallerThanTopnGivesEveryRow) {
  const Metric metric = GetParam();
  constexpr size_t kDim = 8;
  const std::vector<float> targets = clustered(3, kDim, 1, metric == Metric::kCosine);
  const std::vector<float> pool = clustered(4, kDim, 2, metric == Metric::kCosine);
  const auto want = brute_force(metric, targets, pool, kDim, 10);
  ASSERT_EQ(want[0].size(), 4U);
  expect_identical(search(metric, targets, pool, kDim, 10, 3).results(), want);
}

}  // namespace
}  // namespace deft
