// Exact search against a brute-force loop written here independently (double precision, the
// textbook formulas), for every metric, with exact ties, and with the pool streamed in blocks
// of any size.
#include "index/exact_search.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "test_support.h"

namespace deft {
namespace {

using index::Metric;

constexpr size_t kDim = 16;
// The search re-scores in double from float inputs (normalised in double for cosine); the
// reference here normalises inside the formula instead: they agree to ~1e-7.
constexpr double kDistanceTolerance = 1e-6;

struct Data {
  std::vector<float> pool, targets;
  size_t pool_rows = 0, target_rows = 0;
};

// Clustered random vectors; every 10th pool row repeats an earlier one (exact ties), and some
// targets equal pool rows (distance 0).
Data make_data(size_t pool_rows, size_t target_rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> centres(5 * kDim);
  for (float& c : centres)
    c = 3 * normal(rng);
  Data d;
  d.pool_rows = pool_rows;
  d.target_rows = target_rows;
  const auto random_vector = [&](float* out) {
    const float* c = &centres[(rng() % 5) * kDim];
    for (size_t i = 0; i < kDim; ++i)
      out[i] = c[i] + normal(rng);
  };
  d.pool.resize(pool_rows * kDim);
  for (size_t r = 0; r < pool_rows; ++r) {
    if (r % 10 == 9) {
      std::copy_n(&d.pool[(rng() % r) * kDim], kDim, &d.pool[r * kDim]);
    } else {
      random_vector(&d.pool[r * kDim]);
    }
  }
  d.targets.resize(target_rows * kDim);
  for (size_t t = 0; t < target_rows; ++t) {
    if (t % 4 == 0) {
      std::copy_n(&d.pool[(rng() % pool_rows) * kDim], kDim, &d.targets[t * kDim]);
    } else {
      random_vector(&d.targets[t * kDim]);
    }
  }
  return d;
}

double reference_distance(Metric metric, const float* a, const float* b) {
  return testing::textbook_distance(index::metric_name(metric), a, b, kDim);
}

// Brute force: every pair, sorted by (distance, row); distances of exact duplicates are equal
// here too, so ties go to the earlier row.
std::vector<std::vector<index::Neighbor>> brute_force(Metric metric, const Data& d, size_t topn,
                                                      const std::vector<uint64_t>* only = nullptr) {
  std::vector<std::vector<index::Neighbor>> out(d.target_rows);
  for (size_t t = 0; t < d.target_rows; ++t) {
    std::vector<index::Neighbor> all;
    for (uint64_t r = 0; r < d.pool_rows; ++r) {
      if (only != nullptr && !std::binary_search(only->begin(), only->end(), r)) continue;
      all.push_back({reference_distance(metric, &d.targets[t * kDim], &d.pool[r * kDim]), r});
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.distance < b.distance || (a.distance == b.distance && a.pool_row < b.pool_row);
    });
    all.resize(std::min(topn, all.size()));
    out[t] = all;
  }
  return out;
}

std::vector<std::vector<index::Neighbor>> search_in_blocks(Metric metric, const Data& d,
                                                           size_t topn, size_t block) {
  index::ExactSearch search(metric, kDim, d.targets, topn);
  for (size_t first = 0; first < d.pool_rows; first += block) {
    const size_t rows = std::min(block, d.pool_rows - first);
    std::vector<float> copy(d.pool.begin() + static_cast<std::ptrdiff_t>(first * kDim),
                            d.pool.begin() + static_cast<std::ptrdiff_t>((first + rows) * kDim));
    search.add_block(copy.data(), rows);
  }
  EXPECT_EQ(search.pool_rows_seen(), d.pool_rows);
  return search.results();
}

void expect_same(const std::vector<std::vector<index::Neighbor>>& got,
                 const std::vector<std::vector<index::Neighbor>>& expected) {
  ASSERT_EQ(got.size(), expected.size());
  for (size_t t = 0; t < got.size(); ++t) {
    ASSERT_EQ(got[t].size(), expected[t].size()) << "target " << t;
    for (size_t j = 0; j < got[t].size(); ++j) {
      EXPECT_EQ(got[t][j].pool_row, expected[t][j].pool_row) << "target " << t << " rank " << j;
      EXPECT_NEAR(got[t][j].distance, expected[t][j].distance, kDistanceTolerance)
          << "target " << t << " rank " << j;
    }
  }
}

class ExactSearchMetric : public ::testing::TestWithParam<Metric> {};

TEST_P(ExactSearchMetric, EqualsBruteForceWithTiesForAnyBlockSize) {
  const Data d = make_data(600, 40, 7);  // 40 targets: FAISS takes its BLAS path (≥ 20)
  for (size_t topn : {1, 5, 12}) {
    const auto expected = brute_force(GetParam(), d, topn);
    // The data really has ties inside the top-n (duplicated pool rows).
    size_t ties = 0;
    for (const auto& hits : expected) {
      for (size_t j = 1; j < hits.size(); ++j)
        ties += hits[j].distance == hits[j - 1].distance;
    }
    if (topn > 1) {
      EXPECT_GT(ties, 0U);
    }
    for (size_t block : {600, 64, 7, 1}) {
      SCOPED_TRACE(fmt::format("topn {}, block {}", topn, block));
      expect_same(search_in_blocks(GetParam(), d, topn, block), expected);
    }
  }
}

TEST_P(ExactSearchMetric, FewTargetsTakeFaissDirectPathAndAgree) {
  const Data d = make_data(300, 3, 11);  // under FAISS's BLAS threshold
  expect_same(search_in_blocks(GetParam(), d, 6, 50), brute_force(GetParam(), d, 6));
}

TEST_P(ExactSearchMetric, RowSubsetsSearchOnlyThoseRows) {
  const Data d = make_data(400, 25, 13);
  std::vector<uint64_t> odd;
  std::vector<float> vectors;
  for (uint64_t r = 1; r < d.pool_rows; r += 2) {
    odd.push_back(r);
    vectors.insert(vectors.end(), d.pool.begin() + static_cast<std::ptrdiff_t>(r * kDim),
                   d.pool.begin() + static_cast<std::ptrdiff_t>((r + 1) * kDim));
  }
  index::ExactSearch search(GetParam(), kDim, d.targets, 5);
  search.add_rows(vectors.data(), odd.data(), odd.size());
  expect_same(search.results(), brute_force(GetParam(), d, 5, &odd));
}

INSTANTIATE_TEST_SUITE_P(Metrics, ExactSearchMetric,
                         ::testing::Values(Metric::kCosine, Metric::kEuclidean, Metric::kManhattan),
                         [](const auto& p) { return std::string(index::metric_name(p.param)); });

TEST(ExactSearch, TiesGoToTheEarlierPoolRow) {
  // Four identical pool vectors: every target's top 3 are rows 0, 1, 2, in that order.
  std::vector<float> pool(4 * kDim, 0.5f);
  std::vector<float> targets(2 * kDim, 0.25f);
  targets[kDim] = 3.f;
  for (Metric m : {Metric::kCosine, Metric::kEuclidean, Metric::kManhattan}) {
    index::ExactSearch search(m, kDim, targets, 3);
    for (size_t r = 0; r < 4; ++r) {
      std::vector<float> one(pool.begin(), pool.begin() + kDim);
      search.add_block(one.data(), 1);
    }
    for (const auto& hits : search.results()) {
      ASSERT_EQ(hits.size(), 3U);
      EXPECT_EQ(hits[0].pool_row, 0U);
      EXPECT_EQ(hits[1].pool_row, 1U);
      EXPECT_EQ(hits[2].pool_row, 2U);
    }
  }
}

TEST(ExactSearch, MoreNeighboursAskedThanThePoolHas) {
  const Data d = make_data(4, 2, 3);
  const auto hits = search_in_blocks(Metric::kEuclidean, d, 10, 3);
  EXPECT_EQ(hits[0].size(), 4U);
  expect_same(hits, brute_force(Metric::kEuclidean, d, 10));
}

TEST(Metric, NamesRoundTripAndUnknownNamesAreRefused) {
  for (Metric m : {Metric::kCosine, Metric::kEuclidean, Metric::kManhattan})
    EXPECT_EQ(index::parse_metric(index::metric_name(m)), m);
  EXPECT_THROW(index::parse_metric("dot"), Error);
}

}  // namespace
}  // namespace deft
