// The mining history's pure parts: SHA-256 against the FIPS 180-4 examples and `sha256sum`,
// the forecast rule, the merge that counts candidates already mined, and the search that
// leaves excluded rows out, against a brute force written here.
#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "common/sha256.h"
#include "history/forecast.h"
#include "index/exact_search.h"
#include "mine/excluding_search.h"
#include "test_support.h"

namespace deft {
namespace {

TEST(Sha256, MatchesTheStandardExamplesAndSha256sum) {
  // FIPS 180-4 / NIST example messages.
  EXPECT_EQ(sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc", 3),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_hex(two_blocks.data(), two_blocks.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  testing::ScratchDir dir;
  std::string bytes;
  std::mt19937 rng(5);
  for (int i = 0; i < 3 * 1024 * 1024 + 17; ++i)  // more than the reader's 1 MiB buffer
    bytes.push_back(static_cast<char>(rng()));
  testing::write_text_file(dir / "f.bin", bytes);
  const auto r = testing::run_process({"/usr/bin/sha256sum", (dir / "f.bin").string()});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(sha256_file_hex(dir / "f.bin"), r.out.substr(0, 64));
}

TEST(Forecast, RoundsLeftFollowTheDocumentedRule) {
  EXPECT_EQ(history::rounds_left(0, std::nullopt, 1000), 0U);
  EXPECT_EQ(history::rounds_left(40, std::nullopt, 130), 3U);  // floor(130 / 40)
  EXPECT_EQ(history::rounds_left(40, 30, 130), 3U);            // rising: as steady
  // Falling 20 → 8: q = 0.4; 3.2 and 1.28 are ≥ 1, 0.512 is not.
  EXPECT_EQ(history::rounds_left(8, 20, 100), 2U);
  EXPECT_EQ(history::rounds_left(8, 20, 4), 1U);  // 3.2 fits in 4, 3.2 + 1.28 does not
  // q = 30/31: 30·q^k ≥ 1 while k ≤ ln 30 / ln(31/30) = 103.7 (the total, ~900, fits).
  EXPECT_EQ(history::rounds_left(30, 31, 10000), 103U);
}

TEST(Forecast, YieldDropWarningNeedsMoreThanHalf) {
  std::vector<history::RoundRecord> rounds(2);
  rounds[0].round = 1;
  rounds[0].counts.mined = 30;
  rounds[1].round = 2;
  rounds[1].counts.mined = 15;  // exactly half: no warning
  EXPECT_FALSE(history::forecast_rounds(rounds, 100, {}).yield_drop);
  rounds[1].counts.mined = 5;
  const history::Forecast f = history::forecast_rounds(rounds, 100, {});
  ASSERT_TRUE(f.yield_drop);
  EXPECT_EQ(*f.yield_drop,
            "the yield dropped by more than half, from 30 in round 1 to 5 in round 2 (-83%)");
}

TEST(AlreadyMined, CountsTheHistoryRowsAmongEachTargetsTopN) {
  using index::Neighbor;
  // Target 0: kept 0.1 (row 4), 0.3 (row 9); history 0.2 (row 2), 0.3 (row 7): top 3 = rows
  // 4, 2, 7 (0.3 tie: the lower row) → 2 of 3. Target 1: no history rows → 0 of 2.
  const std::vector<std::vector<Neighbor>> kept = {{{0.1, 4}, {0.3, 9}}, {{0.5, 1}, {0.6, 3}}};
  const std::vector<std::vector<Neighbor>> history = {{{0.2, 2}, {0.3, 7}}, {}};
  const mine::AlreadyMined a = mine::count_already_mined(kept, history, 3);
  EXPECT_EQ(a.candidates, 5U);
  EXPECT_EQ(a.mined, 2U);
}

class ExactPool : public index::PoolSearch {
 public:
  ExactPool(size_t dim, std::vector<float> targets, size_t topn)
      : search_(index::Metric::kEuclidean, dim, std::move(targets), topn) {}
  void add_block(float* v, size_t rows, uint64_t first,
                 const std::vector<std::optional<std::string>>&) override {
    search_.add_block(v, rows, first);
  }
  std::vector<std::vector<index::Neighbor>> finish() override { return search_.results(); }
  std::string describe() const override { return "exact"; }

 private:
  index::ExactSearch search_;
};

TEST(ExcludingSearch, EqualsABruteForceOverTheRowsLeftIn) {
  constexpr size_t kDim = 8, kTargets = 5, kRows = 200, kTopn = 6;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  std::vector<float> targets(kTargets * kDim), pool(kRows * kDim);
  for (float& x : targets)
    x = normal(rng);
  for (float& x : pool)
    x = normal(rng);
  std::vector<bool> excluded(kRows);
  for (size_t r = 0; r < kRows; ++r)
    excluded[r] = r % 3 == 0 || (r >= 40 && r < 60);  // scattered rows and a whole run
  for (size_t block : {size_t{1}, size_t{7}, kRows}) {
    mine::ExcludingSearch search(std::make_unique<ExactPool>(kDim, targets, kTopn),
                                 std::make_unique<ExactPool>(kDim, targets, kTopn), excluded, kDim);
    std::vector<float> copy = pool;
    for (size_t first = 0; first < kRows; first += block) {
      const size_t rows = std::min(block, kRows - first);
      search.add_block(copy.data() + first * kDim, rows, first,
                       std::vector<std::optional<std::string>>(rows));
    }
    const auto kept = search.finish();
    for (size_t q = 0; q < kTargets; ++q) {
      // Brute force, in double, over the rows left in and over the excluded ones.
      std::vector<std::pair<double, uint64_t>> in, out;
      for (uint64_t r = 0; r < kRows; ++r) {
        const double d =
            testing::textbook_distance("euclidean", &targets[q * kDim], &pool[r * kDim], kDim);
        (excluded[r] ? out : in).emplace_back(d, r);
      }
      std::sort(in.begin(), in.end());
      std::sort(out.begin(), out.end());
      ASSERT_EQ(kept[q].size(), kTopn);
      ASSERT_EQ(search.history_results()[q].size(), kTopn);
      for (size_t j = 0; j < kTopn; ++j) {
        EXPECT_EQ(kept[q][j].pool_row, in[j].second) << "block " << block << " target " << q;
        EXPECT_NEAR(kept[q][j].distance, in[j].first, 1e-9);
        EXPECT_EQ(search.history_results()[q][j].pool_row, out[j].second);
      }
    }
  }
}

}  // namespace
}  // namespace deft
