// Approximate indexes on 100,000 clustered vectors: recall@5 against exact search ≥ 0.95 for
// HNSW and IVF, printed as [ RESULT ] lines; and FAISS's refusals reach the user as errors.
#include "index/approximate_search.h"

#include <chrono>
#include <iostream>
#include <random>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"

namespace deft {
namespace {

constexpr size_t kDim = 32;
constexpr size_t kPool = 100'000;
constexpr size_t kTargets = 300;
constexpr size_t kTopn = 5;
constexpr double kMinRecall = 0.95;

std::vector<float> clustered(size_t rows, unsigned seed) {
  std::mt19937 centre_rng(1);  // the same 200 centres for targets and pool
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> centres(200 * kDim);
  for (float& c : centres)
    c = normal(centre_rng);
  std::mt19937 rng(seed);
  std::vector<float> v(rows * kDim);
  for (size_t r = 0; r < rows; ++r) {
    const float* c = &centres[(rng() % 200) * kDim];
    for (size_t i = 0; i < kDim; ++i)
      v[r * kDim + i] = c[i] + 0.3f * normal(rng);
  }
  return v;
}

struct Case {
  index::Metric metric;
  const char* factory;
  const char* params;
};

class ApproximateRecall : public ::testing::TestWithParam<Case> {};

TEST_P(ApproximateRecall, RecallAtTopnAgainstExactIsAtLeast95Percent) {
  const Case c = GetParam();
  const auto pool = clustered(kPool, 2);
  const auto targets = clustered(kTargets, 3);
  const auto start = std::chrono::steady_clock::now();
  index::ApproximateSearch search(c.metric, kDim, c.factory, c.params);
  search.add(pool.data(), kPool);
  search.build();
  const auto hits = search.search(targets, kTopn);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(hits.size(), kTargets);
  for (const auto& h : hits)
    ASSERT_EQ(h.size(), kTopn);
  const double recall = search.measure_recall(targets, kTopn, hits, kTargets);
  std::cout << fmt::format(
      "[ RESULT ] {} {} ({}): recall@{} = {:.4f} on {} targets, {} pool "
      "vectors of {} dims; build + search {:.1f} s\n",
      c.factory, index::metric_name(c.metric), c.params, kTopn, recall, kTargets, kPool, kDim,
      seconds);
  EXPECT_GE(recall, kMinRecall);
}

INSTANTIATE_TEST_SUITE_P(
    Indexes, ApproximateRecall,
    ::testing::Values(Case{index::Metric::kCosine, "HNSW32", "efSearch=64"},
                      Case{index::Metric::kEuclidean, "HNSW32", "efSearch=64"},
                      Case{index::Metric::kManhattan, "HNSW32", "efSearch=64"},
                      Case{index::Metric::kCosine, "IVF1024,Flat", "nprobe=16"},
                      Case{index::Metric::kEuclidean, "IVF1024,Flat", "nprobe=16"}),
    [](const auto& p) {
      std::string name = std::string(p.param.factory) + "_" + index::metric_name(p.param.metric);
      for (char& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return name;
    });

TEST(ApproximateSearch, FaissRefusalsAreUserErrors) {
  EXPECT_THROW(index::ApproximateSearch(index::Metric::kCosine, kDim, "NotAnIndex", ""), Error);
  // IVF has no L1: refused up front (FAISS itself would abort the process from an OpenMP loop).
  EXPECT_THROW(index::ApproximateSearch(index::Metric::kManhattan, kDim, "IVF16,Flat", ""), Error);
  const auto pool = clustered(2000, 4);
  index::ApproximateSearch bad_params(index::Metric::kCosine, kDim, "HNSW16", "nosuchparam=3");
  bad_params.add(pool.data(), 2000);
  EXPECT_THROW(bad_params.build(), Error);
}

}  // namespace
}  // namespace deft
