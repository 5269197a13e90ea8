// The mining filters and dedup as pure functions (src/mine/pairs.h), in-process, on lists
// written out by hand: which pair is dropped and why, what is counted, and which row stands
// for each file in the mined list.
#include <map>

#include <gtest/gtest.h>

#include "mine/pairs.h"

namespace deft::mine {
namespace {

using Labels = std::vector<std::optional<std::string>>;

// Two targets, three neighbours each (distance, pool row), nearest first.
const std::vector<std::vector<index::Neighbor>> kResults = {
    {{0.10, 7}, {0.20, 3}, {0.90, 5}},
    {{0.05, 3}, {0.30, 8}, {0.40, 7}},
};
const std::map<uint64_t, std::optional<std::string>> kPoolLabels = {
    {3, "crack"}, {5, "dent"}, {7, " CRACK"}, {8, std::nullopt}};

std::vector<Pair> judge(const PairFilter& filter, PairCounts& counts,
                        const Labels& targets = {"crack", "dent"}) {
  return judge_pairs(
      kResults, targets,
      [](uint64_t row) -> const std::optional<std::string>& { return kPoolLabels.at(row); }, filter,
      counts);
}

std::vector<DropReason> reasons(const std::vector<Pair>& pairs) {
  std::vector<DropReason> out;
  for (const Pair& p : pairs)
    out.push_back(p.dropped_by);
  return out;
}

TEST(MinePairs, TheLabelFilterDropsFirstThenTheThreshold) {
  PairCounts counts;
  const auto pairs = judge({.by_label = true, .distance_threshold = 0.25}, counts);
  ASSERT_EQ(pairs.size(), 6U);
  // Target order, then rank; ranks from 1.
  EXPECT_EQ(pairs[4].target, 1U);
  EXPECT_EQ(pairs[4].rank, 2);
  EXPECT_EQ(pairs[4].neighbour.pool_row, 8U);
  using D = DropReason;
  // crack: ' CRACK' (kept, 0.10), crack (kept, 0.20), dent (label).
  // dent: crack (label), NULL (label: NULL is NONE), ' CRACK' (label).
  EXPECT_EQ(reasons(pairs),
            (std::vector<D>{D::kKept, D::kKept, D::kLabel, D::kLabel, D::kLabel, D::kLabel}));
  EXPECT_EQ(counts.dropped_by_label, 4U);
  EXPECT_EQ(counts.dropped_by_threshold, 0U);
  EXPECT_EQ(counts.null_label_pairs, 1U);
}

TEST(MinePairs, TheThresholdAloneKeepsAPairAtExactlyIt) {
  PairCounts counts;
  const auto pairs = judge({.distance_threshold = 0.30}, counts);
  using D = DropReason;
  EXPECT_EQ(reasons(pairs),
            (std::vector<D>{D::kKept, D::kKept, D::kThreshold, D::kKept, D::kKept, D::kThreshold}));
  EXPECT_EQ(counts.dropped_by_threshold, 2U);
  EXPECT_EQ(counts.dropped_by_label, 0U);
  EXPECT_EQ(counts.null_label_pairs, 0U);  // the label filter did not run
  EXPECT_EQ(drop_reason_name(D::kThreshold), std::optional<std::string>("threshold"));
  EXPECT_EQ(drop_reason_name(D::kLabel), std::optional<std::string>("label"));
  EXPECT_EQ(drop_reason_name(D::kKept), std::nullopt);
}

TEST(MinePairs, TypedLabelsNeverMatchNull) {
  PairCounts counts;
  const auto pairs =
      judge({.by_label = true, .compare = LabelCompare::kTyped}, counts, {"crack", std::nullopt});
  using D = DropReason;
  // Typed: " CRACK" is not "crack"; a NULL target label matches nothing.
  EXPECT_EQ(reasons(pairs),
            (std::vector<D>{D::kLabel, D::kKept, D::kLabel, D::kLabel, D::kLabel, D::kLabel}));
  EXPECT_EQ(counts.null_label_pairs, 3U);
}

TEST(MinePairs, DedupKeepsTheFirstRowOfEachFileWithItsNearestTarget) {
  PairCounts counts;
  const auto pairs = judge({}, counts);  // every pair kept
  // Rows 3 and 8 name the same file; row 7 and 5 are files of their own.
  const std::map<uint64_t, std::string> file = {
      {3, "/p/a.jpg"}, {8, "/p/a.jpg"}, {7, "/p/b.jpg"}, {5, "/p/c.jpg"}};
  const MinedList list = dedup_by_file(pairs, [&](uint64_t row) { return file.at(row); });
  ASSERT_EQ(list.images.size(), 3U);
  // First appearance order: 7 (target 0 rank 1), 3 (target 0 rank 2), 5.
  EXPECT_EQ(list.images[0].pool_row, 7U);
  EXPECT_EQ(list.images[1].pool_row, 3U);
  EXPECT_EQ(list.images[2].pool_row, 5U);
  // b.jpg: targets 0 (0.10) and 1 (0.40); nearest is target 0's pair.
  EXPECT_EQ(list.images[0].hits, 2);
  EXPECT_EQ(list.images[0].best->target, 0U);
  // a.jpg: rows 3 (targets 0 and 1) and 8 (target 1): two targets, nearest target 1 at 0.05.
  EXPECT_EQ(list.images[1].hits, 2);
  EXPECT_EQ(list.images[1].best->neighbour.distance, 0.05);
  EXPECT_EQ(list.images[2].hits, 1);
  EXPECT_EQ(list.kept_pairs, 6U);
  EXPECT_EQ(list.duplicates_removed(), 3U);
  EXPECT_EQ(list.same_file_rows, 1U);
}

TEST(MinePairs, DroppedPairsAreNeitherMinedNorCounted) {
  PairCounts counts;
  const auto pairs = judge({.distance_threshold = 0.15}, counts);  // keeps 0.10 and 0.05 only
  const MinedList list = dedup_by_file(pairs, [](uint64_t row) { return std::to_string(row); });
  ASSERT_EQ(list.images.size(), 2U);
  EXPECT_EQ(list.images[0].pool_row, 7U);
  EXPECT_EQ(list.images[1].pool_row, 3U);
  EXPECT_EQ(list.kept_pairs, 2U);
  EXPECT_EQ(list.duplicates_removed(), 0U);
}

}  // namespace
}  // namespace deft::mine
