#include "mine/excluding_search.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace deft::mine {

AlreadyMined count_already_mined(const std::vector<std::vector<index::Neighbor>>& kept,
                                 const std::vector<std::vector<index::Neighbor>>& history,
                                 size_t topn) {
  AlreadyMined out;
  for (size_t q = 0; q < kept.size(); ++q) {
    const std::vector<index::Neighbor>& a = kept[q];
    const std::vector<index::Neighbor> none;
    const std::vector<index::Neighbor>& b = q < history.size() ? history[q] : none;
    size_t i = 0, j = 0;
    while (i + j < topn && (i < a.size() || j < b.size())) {
      const bool from_history = i == a.size() || (j < b.size() && index::nearer(b[j], a[i]));
      if (from_history) {
        ++j;
        ++out.mined;
      } else {
        ++i;
      }
      ++out.candidates;
    }
  }
  return out;
}

void ExcludingSearch::Side::append(uint64_t pool) {
  if (!runs.empty() && runs.back().pool + runs.back().length == pool) {
    ++runs.back().length;
  } else {
    runs.push_back({packed_rows, pool, 1});
  }
  ++packed_rows;
}

uint64_t ExcludingSearch::Side::pool_row(uint64_t packed) const {
  const auto it = std::upper_bound(runs.begin(), runs.end(), packed,
                                   [](uint64_t p, const Run& r) { return p < r.packed; });
  DEFT_ASSERT(it != runs.begin(), "a packed row before the first run");
  const Run& run = *std::prev(it);
  DEFT_ASSERT(packed < run.packed + run.length, "a packed row no block gave");
  return run.pool + (packed - run.packed);
}

std::vector<std::vector<index::Neighbor>> ExcludingSearch::Side::to_pool(
    std::vector<std::vector<index::Neighbor>> lists) const {
  for (auto& hits : lists) {
    for (index::Neighbor& n : hits)
      n.pool_row = pool_row(n.pool_row);
  }
  return lists;
}

ExcludingSearch::ExcludingSearch(std::unique_ptr<index::PoolSearch> kept,
                                 std::unique_ptr<index::PoolSearch> history,
                                 const std::vector<bool>& excluded, size_t dim)
    : excluded_(excluded), dim_(dim) {
  kept_.search = std::move(kept);
  history_.search = std::move(history);
}

void ExcludingSearch::feed(Side& side, float* vectors, size_t rows, uint64_t first_row,
                           const std::vector<std::optional<std::string>>& labels,
                           bool take_excluded) {
  const auto wanted = [&](size_t i) {
    const uint64_t row = first_row + i;
    return (row < excluded_.size() && excluded_[row]) == take_excluded;
  };
  size_t count = 0;
  for (size_t i = 0; i < rows; ++i)
    count += wanted(i) ? 1 : 0;
  if (count == 0) return;
  const uint64_t packed_first = side.packed_rows;
  for (size_t i = 0; i < rows; ++i) {
    if (wanted(i)) side.append(first_row + i);
  }
  if (count == rows) {  // the whole block: no copy
    side.search->add_block(vectors, rows, packed_first, labels);
    return;
  }
  packed_.resize(count * dim_);
  packed_labels_.clear();
  size_t k = 0;
  for (size_t i = 0; i < rows; ++i) {
    if (!wanted(i)) continue;
    std::memcpy(packed_.data() + k * dim_, vectors + i * dim_, dim_ * sizeof(float));
    packed_labels_.push_back(labels[i]);
    ++k;
  }
  side.search->add_block(packed_.data(), count, packed_first, packed_labels_);
}

void ExcludingSearch::add_block(float* vectors, size_t rows, uint64_t first_row,
                                const std::vector<std::optional<std::string>>& labels) {
  feed(history_, vectors, rows, first_row, labels, true);
  feed(kept_, vectors, rows, first_row, labels, false);
}

std::vector<std::vector<index::Neighbor>> ExcludingSearch::results_so_far() const {
  return kept_.to_pool(kept_.search->results_so_far());
}

std::vector<std::vector<index::Neighbor>> ExcludingSearch::finish() {
  std::vector<std::vector<index::Neighbor>> kept = kept_.to_pool(kept_.search->finish());
  // A share without excluded rows still has one (empty) list per target, as MPI's merge needs.
  history_results_ = history_.packed_rows > 0
                         ? history_.to_pool(history_.search->finish())
                         : std::vector<std::vector<index::Neighbor>>(kept.size());
  return kept;
}

}  // namespace deft::mine
