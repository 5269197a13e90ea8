// The unique-matching rules (tao-compat.md, "tmm unique_neighbor_matching") on points of a
// line, where every distance is worked out by hand in the comments. The search is brute force
// in the test: |target − pool| over the open rows, nearest first, ties by pool row.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "select/candidate_cache.h"
#include "select/matching.h"

namespace deft::select {
namespace {

using ::testing::ElementsAre;

struct Line {
  std::vector<double> targets;
  std::vector<std::string> paths;  // per pool row
  std::vector<double> pool;
  std::vector<std::vector<size_t>> searched;  // the targets of each search call, for checks

  NearestFn nearest() {
    return [this](const std::vector<size_t>& which, const std::vector<uint64_t>& open, size_t k) {
      searched.push_back(which);
      std::vector<std::vector<Candidate>> out;
      for (size_t t : which) {
        std::vector<Candidate> all;
        for (uint64_t row : open)
          all.push_back({std::abs(targets[t] - pool[row]), row});
        std::stable_sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
          return a.distance < b.distance;  // stable: ties keep the row order
        });
        all.resize(std::min(k, all.size()));
        out.push_back(all);
      }
      return out;
    };
  }
  SubsetResult match(size_t desired, size_t expansion,
                     const std::unordered_set<uint32_t>& taken = {}) {
    const PoolFiles files = PoolFiles::from_paths(paths);
    SubsetRequest request{.desired = desired, .expansion = expansion};
    for (size_t t = 0; t < targets.size(); ++t)
      request.targets.push_back(t);
    for (uint64_t r = 0; r < pool.size(); ++r)
      request.pool_rows.push_back(r);
    files_ = files;
    return match_subset(request, files_, taken, nearest());
  }
  std::vector<std::string> names(const std::vector<uint32_t>& ids) const {
    std::vector<std::string> out;
    for (uint32_t f : ids)
      out.push_back(files_.path(f));
    return out;
  }
  std::vector<std::string> picks(const SatisfiedTarget& s) const {
    std::vector<std::string> out;
    for (const Pick& p : s.picks)
      out.push_back(files_.path(p.file));
    return out;
  }
  PoolFiles files_ = PoolFiles::from_paths({});
};

// Three targets, topn = ceil(6 / 3) = 2, expansion 1 (pass p searches 2p deep).
//   pool  A=1 B=2 C=5 D=6 E=20 F=21 G=22      targets t0=0 t1=3.4 t2=5.5
// Pass 1 (k 2): t0 takes A(1) B(2). t1's two nearest are B(1.4) C(1.6): B is claimed, so it
// holds only C and releases it (rollback). t2's are C(0.5) D(0.5): it takes both.
// Merge: (0.5 C) (0.5 D) (1 A) (2 B), all four fit the budget of 6.
// Pass 2 (k min(4, 3 open)): only t1 is searched, over E F G; it takes E(16.6) F(17.6).
TEST(UniqueMatching, AReleasedPickIsTakenByALaterTargetAndTheTargetRetriesNextPass) {
  Line line{.targets = {0, 3.4, 5.5},
            .paths = {"A", "B", "C", "D", "E", "F", "G"},
            .pool = {1, 2, 5, 6, 20, 21, 22}};
  const SubsetResult r = line.match(6, 1);
  EXPECT_EQ(r.topn, 2U);
  ASSERT_EQ(r.passes.size(), 2U);
  ASSERT_EQ(r.passes[0].satisfied.size(), 2U);
  EXPECT_EQ(r.passes[0].satisfied[0].target, 0U);
  EXPECT_THAT(line.picks(r.passes[0].satisfied[0]), ElementsAre("A", "B"));
  EXPECT_EQ(r.passes[0].satisfied[1].target, 2U);
  EXPECT_THAT(line.picks(r.passes[0].satisfied[1]), ElementsAre("C", "D"));
  EXPECT_EQ(r.passes[0].k, 2U);
  EXPECT_EQ(r.passes[1].k, 3U);
  // Pass 2 searches only t1, the target left unsatisfied (its pass-1 list holds no open row).
  ASSERT_EQ(line.searched.size(), 2U);
  EXPECT_THAT(line.searched[1], ElementsAre(1U));
  EXPECT_THAT(line.picks(r.passes[1].satisfied[0]), ElementsAre("E", "F"));
  EXPECT_THAT(line.names(r.retrieved), ElementsAre("C", "D", "A", "B", "E", "F"));
  EXPECT_TRUE(r.unsatisfied.empty());
}

// Budget 3, targets t0=0 t1=10, topn 2. Pool b.jpg=1 a.jpg=11 c.jpg=2 d.jpg=12.
// t0 takes b(1) c(2); t1 takes a(1) d(2). Merge order (1 a) (1 b) (2 c) (2 d): the distance
// ties go by filepath, and the cut at 3 drops d, which stays in the pass's picks.
TEST(UniqueMatching, TheBudgetCutsTiesByFilepath) {
  Line line{
      .targets = {0, 10}, .paths = {"b.jpg", "a.jpg", "c.jpg", "d.jpg"}, .pool = {1, 11, 2, 12}};
  const SubsetResult r = line.match(3, 5);
  EXPECT_EQ(r.topn, 2U);
  ASSERT_EQ(r.passes.size(), 1U);
  EXPECT_THAT(line.picks(r.passes[0].satisfied[1]), ElementsAre("a.jpg", "d.jpg"));
  EXPECT_EQ(r.passes[0].merged, 3U);
  EXPECT_THAT(line.names(r.retrieved), ElementsAre("a.jpg", "b.jpg", "c.jpg"));
  EXPECT_EQ(r.stop, StopReason::kBudgetMet);
}

// Rows naming one file are one file: t0 (at 0) cannot take x.jpg twice; with one distinct
// file besides, it fills topn 2 with x.jpg and y.jpg.
TEST(UniqueMatching, RowsNamingOneFileAreOneCandidate) {
  Line line{.targets = {0}, .paths = {"x.jpg", "x.jpg", "y.jpg"}, .pool = {1, 1, 3}};
  const SubsetResult r = line.match(2, 5);
  ASSERT_EQ(r.passes.size(), 1U);
  EXPECT_THAT(line.picks(r.passes[0].satisfied[0]), ElementsAre("x.jpg", "y.jpg"));
}

// A pool (after exclusions) smaller than topn: no target can fill it, nothing is kept, and no
// pass is recorded (the reference writes no per-pass file then).
TEST(UniqueMatching, APoolSmallerThanTopnSelectsNothing) {
  Line line{.targets = {0, 1}, .paths = {"a", "b", "c"}, .pool = {1, 2, 3}};
  const SubsetResult r = line.match(8, 5);  // topn 4 > 3 files
  EXPECT_TRUE(r.passes.empty());
  EXPECT_TRUE(r.retrieved.empty());
  EXPECT_EQ(r.stop, StopReason::kNoTargetSatisfied);
  EXPECT_THAT(r.unsatisfied, ElementsAre(0U, 1U));
}

// Every file excluded: the search is never asked, nothing is selected, and the reason is
// the exhausted pool (the reference crashes here).
TEST(UniqueMatching, AnExclusionCoveringThePoolEndsWithNothingAndSaysWhy) {
  Line line{.targets = {0}, .paths = {"a", "b"}, .pool = {1, 2}};
  const SubsetResult r = line.match(1, 5, {0, 1});
  EXPECT_TRUE(line.searched.empty());
  EXPECT_TRUE(r.retrieved.empty());
  EXPECT_EQ(r.stop, StopReason::kPoolExhausted);
  EXPECT_THAT(r.unsatisfied, ElementsAre(0U));
}

// Files taken before (another subset's, or excluded) are never offered: t0 at 0 skips a (1)
// and takes b (2).
TEST(UniqueMatching, TakenFilesAreNeverOffered) {
  Line line{.targets = {0}, .paths = {"a", "b"}, .pool = {1, 2}};
  const SubsetResult r = line.match(1, 5, {0});
  EXPECT_THAT(line.names(r.retrieved), ElementsAre("b"));
}

// A target that never fills its topn is searched again in each pass, deeper each time, until
// the pass limit: t0 claims both files in pass 1 (topn 2 = ceil(3 / 2)); t1 sits at the same
// spot, finds only claimed files and nothing is left open for it afterwards.
TEST(UniqueMatching, TheLastPassLeavesAnUnsatisfiedTargetWithItsReason) {
  Line line{.targets = {0, 0}, .paths = {"a", "b", "c"}, .pool = {1, 2, 30}};
  const SubsetResult r = line.match(3, 1);
  // pass 1 (k 2): t0 takes a b; t1 sees a b, both claimed. Merge a b (2 of 3).
  // pass 2: open is c only, k = min(4, 1) = 1; t1 holds c alone, short of 2: no target
  // satisfied, the matching ends.
  ASSERT_EQ(r.passes.size(), 1U);
  EXPECT_THAT(line.names(r.retrieved), ElementsAre("a", "b"));
  EXPECT_EQ(r.stop, StopReason::kNoTargetSatisfied);
  EXPECT_THAT(r.unsatisfied, ElementsAre(1U));
}

// The cache against brute force: random rows close between calls, k grows; every answer must
// equal the k nearest open rows, and only targets whose lists ran short are searched again,
// over the open rows only.
TEST(CandidateCache, AnswersEqualAFreshSearchAndOnlyShortListsAreSearchedAgain) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> where(0.0, 100.0);
  Line line;
  for (int t = 0; t < 6; ++t)
    line.targets.push_back(where(rng));
  for (int r = 0; r < 60; ++r) {
    line.pool.push_back(std::round(where(rng)));  // rounded: many exact ties
    line.paths.push_back("p" + std::to_string(r));
  }
  const NearestFn brute = line.nearest();
  std::vector<uint64_t> open;
  for (uint64_t r = 0; r < 60; ++r)
    open.push_back(r);
  CandidateCache cache(60);
  std::vector<size_t> targets = {0, 1, 2, 3, 4, 5};
  size_t searched_targets = 0;
  const NearestFn counting = [&](const std::vector<size_t>& which,
                                 const std::vector<uint64_t>& rows, size_t k) {
    searched_targets += which.size();
    for (uint64_t r : rows)
      EXPECT_TRUE(std::find(open.begin(), open.end(), r) != open.end()) << "searched a closed row";
    return brute(which, rows, k);
  };
  for (size_t k = 2; k <= 14; k += 2) {
    const auto got = cache.nearest(targets, open, k, 12, counting);
    const auto want = brute(targets, open, k);
    for (size_t i = 0; i < targets.size(); ++i) {
      ASSERT_EQ(got[i].size(), want[i].size()) << "k " << k;
      for (size_t j = 0; j < got[i].size(); ++j)
        EXPECT_EQ(got[i][j].pool_row, want[i][j].pool_row) << "k " << k << " target " << i;
    }
    // Close 7 rows at random, and drop a target (satisfied).
    for (int c = 0; c < 7 && !open.empty(); ++c)
      open.erase(open.begin() + static_cast<long>(rng() % open.size()));
    if (targets.size() > 2) targets.pop_back();
  }
  EXPECT_LT(searched_targets, 6U * 7U);  // fewer than a search per target per call
  EXPECT_GE(cache.searches(), 2U);       // k = 14 > the depth 12: searched again
}

// The forecast of class_stratified's reads ahead, on a line. Pool p0 = 0, p1 = 1, p2 = 2,
// p3 = 10, p4 = 11, p5 = 20; targets t0 = 0.4, t1 = 0.6, t2 = 10.4; expansion 1.
// desired 6 → topn 2, k 2. Pass 1: t0 takes p0, p1 (0.4, 0.6); t1's two nearest are those
// (p1 0.4, p0 0.6): short; t2 takes p3, p4. 2 satisfied × 2 = 4 < 6: t1 would need pass 2.
TEST(FirstPassShort, NamesTheTargetsASecondPassWouldSearch) {
  Line line;
  line.targets = {0.4, 0.6, 10.4};
  line.pool = {0, 1, 2, 10, 11, 20};
  line.paths = {"p0", "p1", "p2", "p3", "p4", "p5"};
  const PoolFiles files = PoolFiles::from_paths(line.paths);
  const std::vector<size_t> targets = {0, 1, 2};
  const std::vector<uint64_t> rows = {0, 1, 2, 3, 4, 5};
  const NearestFn brute = line.nearest();
  const std::vector<SeedLists> deep = {{targets, brute(targets, rows, 4), false}};
  const auto short_of = [&](size_t desired, std::span<const SeedLists> seeds,
                            const std::unordered_set<uint32_t>& taken) {
    return first_pass_short(
        {.targets = targets, .pool_rows = rows, .desired = desired, .expansion = 1, .seeds = seeds},
        files, taken);
  };
  EXPECT_THAT(short_of(6, deep, {}), ElementsAre(1U));
  // p3 taken by an earlier subset: t2 takes p4 and p2 (0.6, 8.4) instead; t1 still short.
  EXPECT_THAT(short_of(6, deep, {files.file_of(3)}), ElementsAre(1U));
  // desired 4 → topn 2: pass 1's 2 satisfied targets fill the budget; no second pass.
  EXPECT_TRUE(short_of(4, deep, {}).empty());
  // A later list replaces an earlier one: t2's list one row deep (not the whole pool) cannot
  // answer k = 2, so t2 counts as short too.
  const std::vector<SeedLists> shallow_t2 = {deep[0], {{2}, brute({2}, rows, 1), false}};
  EXPECT_THAT(short_of(6, shallow_t2, {}), ElementsAre(1U, 2U));
}

// Seeded lists (searched ahead over a superset of the open rows, as class_stratified does for
// every subset in one read): while they reach deep enough they answer every call with no
// search, and each answer equals the k nearest open rows by brute force; a list that runs
// short is searched again.
TEST(CandidateCache, SeededListsAnswerWithoutASearchUntilTheyRunShort) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> where(0.0, 100.0);
  Line line;
  for (int t = 0; t < 4; ++t)
    line.targets.push_back(where(rng));
  for (int r = 0; r < 80; ++r) {
    line.pool.push_back(std::round(where(rng)));
    line.paths.push_back("p" + std::to_string(r));
  }
  const NearestFn brute = line.nearest();
  std::vector<uint64_t> superset;  // the subset's pool: every even row
  for (uint64_t r = 0; r < 80; r += 2)
    superset.push_back(r);
  const std::vector<size_t> targets = {0, 1, 2, 3};
  const SeedLists seed{targets, brute(targets, superset, 10), false};
  CandidateCache cache(80);
  cache.seed(seed);
  size_t searches = 0;
  const NearestFn counting = [&](const std::vector<size_t>& which,
                                 const std::vector<uint64_t>& rows, size_t k) {
    ++searches;
    return brute(which, rows, k);
  };
  std::vector<uint64_t> open = superset;
  open.erase(open.begin() + 3);  // an earlier subset took a file
  for (size_t k : {2, 4, 6}) {
    const auto got = cache.nearest(targets, open, k, 30, counting);
    const auto want = brute(targets, open, k);
    for (size_t i = 0; i < targets.size(); ++i) {
      ASSERT_EQ(got[i].size(), want[i].size()) << "k " << k;
      for (size_t j = 0; j < got[i].size(); ++j)
        EXPECT_EQ(got[i][j].pool_row, want[i][j].pool_row) << "k " << k << " target " << i;
    }
    open.erase(open.begin());  // this subset's own picks close
  }
  EXPECT_EQ(searches, 0U) << "seeded lists 10 deep answer k ≤ 6 with a few rows closed";
  const auto deep = cache.nearest(targets, open, 12, 30, counting);  // beyond the seed
  EXPECT_EQ(searches, 1U);
  EXPECT_EQ(deep[0].size(), 12U);
}

}  // namespace
}  // namespace deft::select
