#pragma once
// Mining modes: how the pool is searched for each target's nearest rows, picked by the
// `index` key. A registry row per mode; the built-in ones:
//
//   exact (or Flat)       every pool row scored, block by block (index::ExactSearch); with
//                         label_mode=within, one exact search per target label
//   a FAISS factory       HNSW32, IVF4096,Flat, …: an approximate index over the whole pool,
//   string                its recall against exact search measured on 100 targets
//
// A new mode registers a factory under its name (tests register one of their own):
//
//   mine::register_pool_search("reverse", [](const PoolSearchContext& c) { ... });
//   auto search = mine::make_pool_search({job, targets, within, ranks});

#include <functional>
#include <memory>
#include <string>

#include "index/pool_search.h"
#include "mine/mine_job.h"
#include "mine/targets.h"

namespace deft::mine {

struct PoolSearchContext {
  const MineJob& job;
  const Targets& targets;
  bool within_labels = false;  // label_mode=within with the label filter applying
  int ranks = 1;               // MPI ranks sharing the pool
};

using PoolSearchFactory =
    std::function<std::unique_ptr<index::PoolSearch>(const PoolSearchContext&)>;

// Registers (or replaces) a mode under `name`, matched exactly against the `index` key.
void register_pool_search(const std::string& name, PoolSearchFactory factory);

// Refuses the combinations a mode cannot serve (an approximate index under mpirun or with
// label_mode=within), before any row is read. Throws Error(kUsage).
void check_pool_search(const PoolSearchContext& context);

// The mode `job.index` names: a registered one, else exact, else a FAISS factory string.
// Needs at least one target. Throws Error(kUsage) for a string FAISS refuses.
std::unique_ptr<index::PoolSearch> make_pool_search(const PoolSearchContext& context);

}  // namespace deft::mine
