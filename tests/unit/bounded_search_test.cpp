// ExactSearch (fp32 or int8 inner-product candidates for cosine and euclidean, fp32 L1 sums for
// Manhattan — AVX-512 and the portable loop —, each with a proven bound, then exact
// re-scoring) against a brute force written here: every pool row scored in double over
// the same stored floats, sorted by (distance, row). Equality is exact — rows and distances bit
// for bit — on near-ties far below fp32 resolution, exact duplicates, several target and pool
// chunks, blocks of any size (1 and 7 included), rows whose 8-bit scale one outlier sets, and
// vectors of very different lengths; in both precisions on whatever CPU runs the test (oneDNN
// runs int8 without VNNI too, slower); and the bound is shown to prune (few rows re-scored).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "index/bounded_candidates.h"
#include "index/exact_search.h"
#include "index/int8_rows.h"
#include "index/vector_loops.h"
#include "kernels/int8_product.h"
#include "test_support.h"

namespace deft {
namespace {

using index::Metric;
using index::Neighbor;
using index::ScorePrecision;

// The textbook distances in double over the floats as stored (what exact_distance promises).
double brute_distance(Metric metric, const float* a, const float* b, size_t dim) {
  double sum = 0;
  for (size_t k = 0; k < dim; ++k) {
    if (metric == Metric::kCosine) {
      sum += static_cast<double>(a[k]) * static_cast<double>(b[k]);
    } else if (metric == Metric::kManhattan) {
      sum += std::fabs(static_cast<double>(a[k]) - static_cast<double>(b[k]));
    } else {
      const double d = static_cast<double>(a[k]) - static_cast<double>(b[k]);
      sum += d * d;
    }
  }
  if (metric == Metric::kManhattan) return sum;
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
index::ExactSearch search(Metric metric, ScorePrecision precision,
                          const std::vector<float>& targets, std::vector<float> pool, size_t dim,
                          size_t topn, size_t block) {
  index::ExactSearch s(metric, dim, targets, topn, /*normalized=*/true, precision);
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

// (metric, candidate precision, the portable loops forced by DEFT_SEARCH_ISA=portable).
class BoundedSearch : public ::testing::TestWithParam<std::tuple<Metric, ScorePrecision, bool>> {
 protected:
  void SetUp() override {
    if (std::get<1>(GetParam()) == ScorePrecision::kInt8 && !kernels::cpu_has_int8_dot())
      GTEST_SKIP() << "int8 scores need VNNI or AMX-INT8 (deft uses fp32 without them)";
    if (std::get<2>(GetParam())) setenv("DEFT_SEARCH_ISA", "portable", 1);
  }
  void TearDown() override { unsetenv("DEFT_SEARCH_ISA"); }
  Metric metric() const { return std::get<0>(GetParam()); }
  ScorePrecision precision() const { return std::get<1>(GetParam()); }
  index::ExactSearch search(const std::vector<float>& targets, std::vector<float> pool, size_t dim,
                            size_t topn, size_t block) const {
    return deft::search(metric(), precision(), targets, std::move(pool), dim, topn, block);
  }
};

std::string path_name(const ::testing::TestParamInfo<BoundedSearch::ParamType>& test) {
  const auto& [metric, precision, portable] = test.param;
  if (metric == Metric::kManhattan) return portable ? "manhattan_portable" : "manhattan_dispatched";
  return std::string(index::metric_name(metric)) + "_" + index::score_precision_name(precision);
}

INSTANTIATE_TEST_SUITE_P(MetricsAndPrecisions, BoundedSearch,
                         ::testing::Combine(::testing::Values(Metric::kCosine, Metric::kEuclidean),
                                            ::testing::Values(ScorePrecision::kF32,
                                                              ScorePrecision::kInt8),
                                            ::testing::Values(false)),
                         path_name);
INSTANTIATE_TEST_SUITE_P(Manhattan, BoundedSearch,
                         ::testing::Combine(::testing::Values(Metric::kManhattan),
                                            ::testing::Values(ScorePrecision::kF32),
                                            ::testing::Values(false, true)),
                         path_name);

// 300 pool rows that differ from one base vector by one float ulp in a few components: their
// distances to the target differ by ~1e-9, far below fp32's inner-product resolution, so fp32
// ranks them at random; plus exact duplicates (ties go to the earlier row) and ordinary rows.
TEST_P(BoundedSearch, NearTiesBelowFloatResolutionComeOutInExactOrder) {
  const Metric metric = this->metric();
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
  for (size_t block : {2500, 777, 64, 7, 1}) {
    SCOPED_TRACE(block);
    expect_identical(search(targets, pool, kDim, kTopn, block).results(), want);
  }
}

// The same near-ties seen from a target at some distance: each distance is then large beside
// the ~1e-7 that separates the near-ties, so the fp32 scores order them at random (their
// rounding, ~1e-5 here, is a hundred times the gaps). Only the bound keeps the right ones.
TEST_P(BoundedSearch, NearTiesFarFromTheTargetComeOutInExactOrder) {
  const Metric metric = this->metric();
  const bool unit = metric == Metric::kCosine;
  constexpr size_t kDim = 768, kTopn = 10;
  std::mt19937 rng(13);
  std::normal_distribution<float> normal(0.F, 1.F);
  std::vector<float> pool = clustered(3000, kDim, 7, unit);
  const std::vector<float> base(pool.begin(), pool.begin() + kDim);
  for (size_t r = 500; r < 800; ++r) {
    std::copy(base.begin(), base.end(), pool.begin() + r * kDim);
    for (int n = 0; n < 3; ++n) {
      float& x = pool[r * kDim + rng() % kDim];
      x = std::nextafter(x, (rng() & 1) ? 2.F : -2.F);
    }
  }
  std::vector<float> targets = clustered(8, kDim, 9, unit);
  for (size_t t = 0; t < 3; ++t) {  // three targets near the base, not on it
    for (size_t k = 0; k < kDim; ++k)
      targets[t * kDim + k] = base[k] + (unit ? 0.002F : 0.05F) * normal(rng);
  }
  if (unit) normalize(targets, kDim);
  const auto want = brute_force(metric, targets, pool, kDim, kTopn);
  for (size_t t = 0; t < 3; ++t) {  // the case is what it says: near-ties fill each top ten
    for (const Neighbor& n : want[t])
      ASSERT_TRUE(n.pool_row == 0 || (n.pool_row >= 500 && n.pool_row < 800)) << n.pool_row;
  }
  for (size_t block : {size_t{3000}, size_t{700}, size_t{7}}) {
    SCOPED_TRACE(block);
    expect_identical(search(targets, pool, kDim, kTopn, block).results(), want);
  }
}

// More targets than one packed chunk and more pool rows than one scored chunk, blocks that
// cut both, a topn deeper than a small block: the same answer, and most rows never re-scored.
TEST_P(BoundedSearch, ManyTargetsAndChunksEqualBruteForceAndMostRowsArePruned) {
  const Metric metric = this->metric();
  constexpr size_t kDim = 32, kTopn = 25;
  const size_t targets_n = index::BoundedCandidates::kTargetChunk + 37;
  const size_t pool_n = index::BoundedCandidates::kPoolChunk * 2 + 123;
  const std::vector<float> targets = clustered(targets_n, kDim, 21, metric == Metric::kCosine);
  const std::vector<float> pool = clustered(pool_n, kDim, 22, metric == Metric::kCosine);
  const auto want = brute_force(metric, targets, pool, kDim, kTopn);
  for (size_t block : {pool_n, size_t{3000}, size_t{20}}) {
    SCOPED_TRACE(block);
    const index::ExactSearch s = search(targets, pool, kDim, kTopn, block);
    expect_identical(s.results(), want);
    if (block == pool_n) {
      // Whole chunks: the first fills each target's 25 from its chunk's best keys, later ones
      // re-score only rows that can still compete (here under a fifth of all pairs).
      EXPECT_LT(s.rescored(), targets_n * pool_n / 5) << s.rescored();
    }
  }
}

// Rows whose 8-bit scale one large component sets (the rest then keep ~3 bits: a large
// residual), near-copies of such rows, and — for euclidean — lengths from 1e-3 to 1e3: the
// int8 bound must widen where the rounding is coarse, and the answer stays the brute force's.
TEST_P(BoundedSearch, OutlierComponentsAndUnequalLengthsEqualBruteForce) {
  const Metric metric = this->metric();
  const bool unit = metric == Metric::kCosine;
  constexpr size_t kDim = 96, kTopn = 7;
  std::mt19937 rng(31);
  std::vector<float> pool = clustered(3000, kDim, 32, false);
  for (size_t r = 0; r < 3000; r += 3)
    pool[r * kDim + rng() % kDim] *= 40.0F;
  for (size_t r = 1; r < 3000; r += 50) {  // near-copies of the row before
    std::copy_n(pool.begin() + (r - 1) * kDim, kDim, pool.begin() + r * kDim);
    float& x = pool[r * kDim + rng() % kDim];
    x = std::nextafter(x, 0.F);
  }
  if (unit) {
    normalize(pool, kDim);
  } else {
    std::uniform_real_distribution<float> exponent(-3.F, 3.F);
    for (size_t r = 0; r < 3000; ++r) {
      const float f = std::pow(10.F, exponent(rng));
      for (size_t k = 0; k < kDim; ++k)
        pool[r * kDim + k] *= f;
    }
  }
  std::vector<float> targets(pool.begin(), pool.begin() + 40 * kDim);  // some are pool rows
  const std::vector<float> more = clustered(40, kDim, 33, unit);
  targets.insert(targets.end(), more.begin(), more.end());
  const auto want = brute_force(metric, targets, pool, kDim, kTopn);
  for (size_t block : {size_t{3000}, size_t{7}}) {
    SCOPED_TRACE(block);
    expect_identical(search(targets, pool, kDim, kTopn, block).results(), want);
  }
}

// The int8 identity itself, in long double: |x·y − a·b·(w·v)| ≤ |a·w|·|e| + |r|·|b·v| + |r|·|e|
// with each row's numbers as quantize_rows measured them — and the bound is not vacuous: within
// 20× of the largest error seen (Cauchy–Schwarz on a residual of random direction is ~√d/3
// too wide at worst; here ~1/10 is reached).
TEST(Int8Rows, TheErrorBoundHoldsForEveryPairAndIsNotVacuous) {
  constexpr size_t kDim = 768, kRows = 60;
  std::vector<float> x = clustered(kRows, kDim, 41, true);
  x[5 * kDim + 3] = 0.9F;  // one outlier row
  index::Int8Rows signed_rows, offset_rows;
  index::quantize_rows(x.data(), kRows, kDim, index::Int8Offset::kNone, signed_rows);
  index::quantize_rows(x.data(), kRows, kDim, index::Int8Offset::k128, offset_rows);
  long double worst_ratio = 0;
  for (size_t i = 0; i < kRows; ++i) {
    for (size_t j = 0; j < kRows; ++j) {
      long double exact = 0;
      int64_t wv = 0;
      for (size_t k = 0; k < kDim; ++k) {
        exact += static_cast<long double>(x[i * kDim + k]) * x[j * kDim + k];
        const auto w = static_cast<int8_t>(signed_rows.values[i * kDim + k]);
        const int v = static_cast<int>(offset_rows.values[j * kDim + k]) - 128;
        ASSERT_GE(v, -127);
        ASSERT_LE(v, 127);
        wv += static_cast<int64_t>(w) * v;
      }
      const long double approx = static_cast<long double>(signed_rows.scale[i]) *
                                 offset_rows.scale[j] * static_cast<long double>(wv);
      const long double bound =
          static_cast<long double>(signed_rows.norm[i]) * offset_rows.residual[j] +
          static_cast<long double>(signed_rows.residual[i]) * offset_rows.norm[j] +
          static_cast<long double>(signed_rows.residual[i]) * offset_rows.residual[j];
      ASSERT_LE(std::fabs(exact - approx), bound) << i << " " << j;
      worst_ratio = std::max(worst_ratio, std::fabs(exact - approx) / bound);
    }
  }
  EXPECT_GT(worst_ratio, 1.0L / 20) << "the bound is far looser than the error it covers";
  EXPECT_EQ(signed_rows.sum, offset_rows.sum);
  EXPECT_EQ(signed_rows.scale, offset_rows.scale);
}

// The row loops the CPU picks (AVX-512 here where it exists) and the portable ones give the
// same bytes and sums, and residuals and norms equal to a long-double recount from those
// bytes; lengths with a tail past the last sixteen included.
TEST(Int8Rows, TheDispatchedLoopsMatchThePortableOnesAndARecount) {
  for (size_t dim : {size_t{768}, size_t{100}, size_t{7}}) {
    SCOPED_TRACE(dim);
    const std::vector<float> x = clustered(20, dim, 43, false);
    for (size_t r = 0; r < 20; ++r) {
      const float* row = x.data() + r * dim;
      const float largest = index::largest_magnitude(row, dim);
      ASSERT_EQ(largest, index::portable::largest_magnitude(row, dim));
      const double scale = largest / 127.0, inverse = 127.0 / largest;
      for (uint8_t flip : {uint8_t{0}, uint8_t{0x80}}) {
        std::vector<uint8_t> fast(dim), slow(dim);
        double fast_left = 0, fast_kept = 0, slow_left = 0, slow_kept = 0;
        const int32_t fast_sum =
            index::quantize_row(row, dim, scale, inverse, flip, fast.data(), fast_left, fast_kept);
        const int32_t slow_sum = index::portable::quantize_row(row, dim, scale, inverse, flip,
                                                               slow.data(), slow_left, slow_kept);
        ASSERT_EQ(fast, slow);
        ASSERT_EQ(fast_sum, slow_sum);
        long double left = 0, kept = 0;
        int32_t sum = 0;
        for (size_t k = 0; k < dim; ++k) {
          const int q = static_cast<int8_t>(static_cast<uint8_t>(fast[k] ^ flip));
          ASSERT_LE(std::abs(q - std::nearbyint(row[k] * inverse)), 1) << k;
          sum += q;
          const long double s = static_cast<long double>(scale) * q;
          left += (row[k] - s) * (row[k] - s);
          kept += s * s;
        }
        EXPECT_EQ(fast_sum, sum);
        EXPECT_NEAR(fast_left, static_cast<double>(left), 1e-12 * static_cast<double>(left));
        EXPECT_NEAR(fast_kept, static_cast<double>(kept), 1e-12 * static_cast<double>(kept));
        EXPECT_NEAR(slow_left, static_cast<double>(left), 1e-12 * static_cast<double>(left));
      }
    }
  }
}

// The L1 tile the CPU picks (AVX-512 4 × 4 tiles and their edges here) and the portable loop:
// every sum within the bound the Manhattan candidates assume, |ŝ − s| ≤ γ_d·s, of the sum in
// long double; shapes that leave edges in both directions and a tail past the last sixteen.
TEST(L1Distances, TheDispatchedAndPortableTilesAreWithinTheBound) {
  for (size_t dim : {size_t{768}, size_t{100}, size_t{7}}) {
    SCOPED_TRACE(dim);
    const std::vector<float> a = clustered(6, dim, 51, false);
    const std::vector<float> b = clustered(71, dim, 52, false);
    const size_t stride = 80;
    std::vector<float> fast(6 * stride, -1.F), slow(6 * stride, -1.F);
    index::l1_distances(a.data(), 6, b.data(), 71, dim, fast.data(), stride);
    index::portable::l1_distances(a.data(), 6, b.data(), 71, dim, slow.data(), stride);
    const long double gamma = dim * 0x1p-24L / (1 - dim * 0x1p-24L);
    for (size_t i = 0; i < 6; ++i) {
      for (size_t j = 0; j < 71; ++j) {
        long double exact = 0;
        for (size_t k = 0; k < dim; ++k)
          exact += std::fabs(static_cast<long double>(a[i * dim + k]) - b[j * dim + k]);
        EXPECT_LE(std::fabs(fast[i * stride + j] - exact), gamma * exact) << i << " " << j;
        EXPECT_LE(std::fabs(slow[i * stride + j] - exact), gamma * exact) << i << " " << j;
      }
      EXPECT_EQ(fast[i * stride + 71], -1.F) << "wrote past the tile";
    }
  }
}

// The summary's engine line names the ISA the candidates really run on: under
// ONEDNN_MAX_CPU_ISA (the CTest entries BoundedSearchOn*) the capped one, else this CPU's
// (read from /proc/cpuinfo here).
TEST(CandidateKernel, NamesTheIsaTheScoresRunOn) {
  const std::vector<float> targets = clustered(3, 16, 1, true);
  const index::ExactSearch fp32(Metric::kCosine, 16, targets, 2, true, ScorePrecision::kF32);
  const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
  const std::string capped = cap == nullptr ? "" : cap;
  // A cap only lowers: an AVX2 machine capped at AVX512_CORE still runs AVX2.
  const bool avx512 = testing::read_cpuinfo().has("avx512f");
  std::string want_int8, want_fp32;
  if (capped == "AVX2" || (capped == "AVX512_CORE" && !avx512)) {
    want_int8 = "AVX2 or older, no VNNI";
    want_fp32 = "AVX2 or older";
  } else if (capped == "AVX512_CORE") {
    want_int8 = "AVX-512, no VNNI";
    want_fp32 = "AVX-512";
  } else {
    const testing::CpuInfo cpu = testing::read_cpuinfo();
    if (cpu.has("amx_int8")) {
      want_int8 = "AMX-INT8";
    } else if (cpu.has("avx512_vnni")) {
      want_int8 = "AVX-512 VNNI";
    } else {
      GTEST_SKIP() << "a CPU without VNNI: the capped entries cover the names";
    }
    want_fp32 = "AVX-512";
  }
  EXPECT_EQ(fp32.candidate_kernel(), "fp32 inner products on oneDNN (" + want_fp32 + ")");
  // int8 runs only where its products are exact; the default picks it there, fp32 elsewhere.
  EXPECT_EQ(kernels::cpu_has_int8_dot(), capped.empty());
  EXPECT_EQ(index::default_score_precision(),
            capped.empty() ? ScorePrecision::kInt8 : ScorePrecision::kF32);
  if (kernels::cpu_has_int8_dot()) {
    const index::ExactSearch int8(Metric::kCosine, 16, targets, 2, true, ScorePrecision::kInt8);
    EXPECT_EQ(int8.candidate_kernel(), "int8 inner products on oneDNN (" + want_int8 + ")");
  } else {
    setenv("DEFT_SEARCH_PRECISION", "int8", 1);
    EXPECT_THROW(index::default_score_precision(), Error);
    unsetenv("DEFT_SEARCH_PRECISION");
  }
}

TEST_P(BoundedSearch, APoolSmallerThanTopnGivesEveryRow) {
  const Metric metric = this->metric();
  constexpr size_t kDim = 8;
  const std::vector<float> targets = clustered(3, kDim, 1, metric == Metric::kCosine);
  const std::vector<float> pool = clustered(4, kDim, 2, metric == Metric::kCosine);
  const auto want = brute_force(metric, targets, pool, kDim, 10);
  ASSERT_EQ(want[0].size(), 4U);
  expect_identical(search(targets, pool, kDim, 10, 3).results(), want);
}

}  // namespace
}  // namespace deft
