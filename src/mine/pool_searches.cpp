#include "mine/pool_searches.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "common/log.h"
#include "index/approximate_search.h"
#include "index/exact_search.h"
#include "mine/labels.h"

namespace deft::mine {

namespace {

bool is_exact_index(const std::string& index) {
  return index.empty() || index == "exact" || index == "Flat";
}

// Exact search: one over every target, or (label_mode=within) one per target label, each over
// the pool rows of that label.
class ExactPoolSearch final : public index::PoolSearch {
 public:
  ExactPoolSearch(const MineJob& job, const Targets& targets, bool within_labels)
      : within_(within_labels),
        compare_(job.label_compare),
        dim_(targets.dim),
        targets_count_(targets.paths.size()) {
    if (!within_) {
      all_ =
          std::make_unique<index::ExactSearch>(job.metric, targets.dim, targets.vectors, job.topn);
      return;
    }
    std::map<std::string, std::vector<size_t>> by_label;
    for (size_t q = 0; q < targets.labels.size(); ++q) {
      if (const auto key = label_key(targets.labels[q], compare_)) by_label[*key].push_back(q);
    }
    for (auto& [label, members] : by_label) {
      std::vector<float> vectors;
      for (size_t q : members) {
        vectors.insert(
            vectors.end(), targets.vectors.begin() + static_cast<std::ptrdiff_t>(q * targets.dim),
            targets.vectors.begin() + static_cast<std::ptrdiff_t>((q + 1) * targets.dim));
      }
      Group& g = groups_[label];
      g.search = std::make_unique<index::ExactSearch>(job.metric, targets.dim, std::move(vectors),
                                                      job.topn);
      g.targets = std::move(members);
    }
  }

  void add_block(float* vectors, size_t rows, uint64_t first_row,
                 const std::vector<std::optional<std::string>>& labels) override {
    if (!within_) {
      all_->add_block(vectors, rows, first_row);
      return;
    }
    // Each row's key once per block, not once per label group.
    std::vector<std::optional<std::string>> keys(rows);
    for (size_t r = 0; r < rows; ++r)
      keys[r] = label_key(labels[r], compare_);
    for (auto& [label, g] : groups_) {
      std::vector<float> subset;
      std::vector<uint64_t> pool_rows;
      for (size_t r = 0; r < rows; ++r) {
        if (keys[r] != label) continue;
        pool_rows.push_back(first_row + r);
        subset.insert(subset.end(), vectors + r * dim_, vectors + (r + 1) * dim_);
      }
      g.search->add_rows(subset.data(), pool_rows.data(), pool_rows.size());
    }
  }

  bool knows_best_so_far() const override { return true; }
  std::vector<std::vector<index::Neighbor>> finish() override { return results_so_far(); }
  // "exact (int8 inner products on oneDNN (AVX-512 VNNI) for candidates, re-scored in
  // double)": the engine and its ISA. How much the bound left to re-score goes to the log (on
  // MPI ranks each counts its own share; the summary is the same on any number of ranks).
  std::string describe() const override {
    uint64_t rescored = 0, pairs = 0;
    std::string kernel;
    const auto add = [&](const index::ExactSearch& s) {
      rescored += s.rescored();
      pairs += s.pairs_searched();
      if (kernel.empty()) kernel = s.candidate_kernel();
    };
    if (all_) add(*all_);
    for (const auto& [label, g] : groups_)
      add(*g.search);
    if (kernel.empty()) return "exact";
    log::info(
        "mining: {} of {} (target, pool row) pairs re-scored in double ({:.3g}%)", rescored, pairs,
        pairs == 0 ? 0.0 : 100.0 * static_cast<double>(rescored) / static_cast<double>(pairs));
    return fmt::format("exact ({} for candidates, re-scored in double)", kernel);
  }
  bool splits_across_ranks() const override { return true; }

  // Per target, its neighbours nearest first.
  std::vector<std::vector<index::Neighbor>> results_so_far() const override {
    if (!within_) return all_->results();
    std::vector<std::vector<index::Neighbor>> out(targets_count_);
    for (const auto& [label, g] : groups_) {
      for (size_t i = 0; i < g.targets.size(); ++i)
        out[g.targets[i]] = g.search->results()[i];
    }
    return out;
  }

 private:
  struct Group {
    std::unique_ptr<index::ExactSearch> search;
    std::vector<size_t> targets;  // target rows, in the order of the search's targets
  };
  bool within_;
  LabelCompare compare_;
  size_t dim_;
  size_t targets_count_;
  std::unique_ptr<index::ExactSearch> all_;
  std::map<std::string, Group> groups_;
};

// A FAISS index over the whole pool (held in memory), its candidates re-scored exactly; its
// recall against exact search is measured on up to 100 targets once it has answered.
class ApproximatePoolSearch final : public index::PoolSearch {
 public:
  ApproximatePoolSearch(const MineJob& job, const Targets& targets)
      : job_(job),
        targets_(targets),
        search_(job.metric, targets.dim, job.index, job.index_params) {}

  void add_block(float* vectors, size_t rows, uint64_t,
                 const std::vector<std::optional<std::string>>&) override {
    search_.add(vectors, rows);
  }

  std::vector<std::vector<index::Neighbor>> finish() override {
    search_.build();
    auto results = search_.search(targets_.vectors, job_.topn);
    recall_ = search_.measure_recall(targets_.vectors, job_.topn, results, kRecallSample);
    return results;
  }

  std::string describe() const override {
    return fmt::format(
        "{}{} (approximate: recall@{} {:.4f} against exact search on {} sampled targets)",
        job_.index, job_.index_params.empty() ? "" : " " + job_.index_params, job_.topn, recall_,
        std::min<size_t>(kRecallSample, targets_.paths.size()));
  }

 private:
  static constexpr size_t kRecallSample = 100;
  const MineJob& job_;
  const Targets& targets_;
  index::ApproximateSearch search_;
  double recall_ = 0;
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, PoolSearchFactory> modes;
};

Registry& registry() {
  static Registry r;
  return r;
}

PoolSearchFactory registered(const std::string& name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  const auto it = r.modes.find(name);
  return it == r.modes.end() ? PoolSearchFactory() : it->second;
}

}  // namespace

void register_pool_search(const std::string& name, PoolSearchFactory factory) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.modes[name] = std::move(factory);
}

void check_pool_search(const PoolSearchContext& c) {
  if (registered(c.job.index) || is_exact_index(c.job.index)) return;
  if (c.ranks > 1) {
    throw Error(ErrorKind::kUsage,
                fmt::format("index={} under mpirun ({} ranks) is not supported: approximate "
                            "indexes need the whole pool in one process",
                            c.job.index, c.ranks),
                "use index=exact with several ranks");
  }
  if (c.within_labels) {
    throw Error(ErrorKind::kUsage,
                fmt::format("label_mode=within needs the exact index, not index={}", c.job.index),
                "use label_mode=after, or index=exact");
  }
}

std::unique_ptr<index::PoolSearch> make_pool_search(const PoolSearchContext& c) {
  check_pool_search(c);
  if (const PoolSearchFactory factory = registered(c.job.index)) {
    auto search = factory(c);
    if (c.ranks > 1 && !search->splits_across_ranks()) {
      throw Error(
          ErrorKind::kUsage,
          fmt::format("index={} cannot split the pool across {} MPI ranks", c.job.index, c.ranks),
          "run it in one process");
    }
    return search;
  }
  if (is_exact_index(c.job.index)) {
    return std::make_unique<ExactPoolSearch>(c.job, c.targets, c.within_labels);
  }
  return std::make_unique<ApproximatePoolSearch>(c.job, c.targets);
}

}  // namespace deft::mine
