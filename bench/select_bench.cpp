// deft_select_bench: `deft select` (tmm unique_neighbor_matching) against a direct port of the
// reference's algorithm (TAO mining/tmm/selection.py: every pass filters the pool, normalises
// it, builds a FAISS IndexFlatL2 in memory and searches the unsatisfied targets; then the
// same claim/rollback walk and capped merge), in the same run on the same vectors. Prints JSON
// rows: per pass the peer's targets, k and seconds; then both totals, the ratio, deft's peak
// RSS against its memory budget, and how far the two selections agree.
//
//   deft_select_bench --deft build/deft --work /tmp/deft-bench/select [--targets 10000]
//       [--pool 1000000] [--dim 768] [--budget 50000] [--budget-mb 1024] [--no-peer]
//
// The vectors are mine_bench's (64 clustered centres, fixed seeds), written once as embedding
// parquets in --work. The peer holds them in memory and is timed from its first pass to its
// final set; `deft select` is timed as a process, parquet reading and every output included.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <faiss/IndexFlat.h>
#include <faiss/utils/distances.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include "bench_data.h"
#include "table/duckdb_handles.h"

namespace fs = std::filesystem;
using namespace deft;

namespace {

struct PeerPass {
  size_t targets, k, satisfied, merged;
  double seconds;
};

// The reference's iterative_tmm_retrieval over row ids (the paths are img/<row>.jpg, so a row
// is its file), distance metric euclidean on L2-normalised vectors.
std::set<uint64_t> reference_port(const std::vector<float>& targets, const std::vector<float>& pool,
                                  size_t dim, size_t desired, size_t expansion,
                                  std::vector<PeerPass>& passes) {
  const size_t n_targets = targets.size() / dim, n_pool = pool.size() / dim;
  const size_t topn = std::max<size_t>(1, (desired + n_targets - 1) / n_targets);
  std::set<uint64_t> retrieved;
  std::vector<size_t> remaining(n_targets);
  for (size_t i = 0; i < n_targets; ++i)
    remaining[i] = i;
  for (int iteration = 0; iteration < 8; ++iteration) {
    if (retrieved.size() >= desired || remaining.empty()) break;
    const auto start = std::chrono::steady_clock::now();
    // perform_tmm_retrieval: filter, normalise (copies), fit, kneighbors.
    std::vector<uint64_t> kept;
    for (uint64_t r = 0; r < n_pool; ++r)
      if (retrieved.count(r) == 0) kept.push_back(r);
    if (kept.empty()) break;
    std::vector<float> source(kept.size() * dim), query(remaining.size() * dim);
    for (size_t i = 0; i < kept.size(); ++i)
      std::copy_n(pool.data() + kept[i] * dim, dim, source.data() + i * dim);
    for (size_t i = 0; i < remaining.size(); ++i)
      std::copy_n(targets.data() + remaining[i] * dim, dim, query.data() + i * dim);
    faiss::fvec_renorm_L2(dim, kept.size(), source.data());
    faiss::fvec_renorm_L2(dim, remaining.size(), query.data());
    const size_t k = std::min(expansion * (iteration + 1) * topn, kept.size());
    faiss::IndexFlatL2 index(static_cast<faiss::Index::idx_t>(dim));
    index.add(static_cast<faiss::Index::idx_t>(kept.size()), source.data());
    std::vector<float> distances(remaining.size() * k);
    std::vector<faiss::Index::idx_t> labels(remaining.size() * k);
    index.search(static_cast<faiss::Index::idx_t>(remaining.size()), query.data(),
                 static_cast<faiss::Index::idx_t>(k), distances.data(), labels.data());
    // The walk: claims, rollbacks.
    std::unordered_set<uint64_t> assigned;
    std::vector<std::pair<double, uint64_t>> picks;  // (distance, row)
    std::vector<size_t> unsatisfied;
    size_t satisfied = 0;
    for (size_t t = 0; t < remaining.size(); ++t) {
      std::vector<std::pair<double, uint64_t>> tentative;
      for (size_t c = 0; c < k && tentative.size() < topn; ++c) {
        const uint64_t row = kept[static_cast<size_t>(labels[t * k + c])];
        if (assigned.count(row) > 0) continue;
        tentative.emplace_back(std::sqrt(std::max(0.f, distances[t * k + c])), row);
      }
      if (tentative.size() < topn) {
        unsatisfied.push_back(remaining[t]);
        continue;
      }
      ++satisfied;
      for (const auto& p : tentative) {
        assigned.insert(p.second);
        picks.push_back(p);
      }
    }
    if (satisfied == 0) break;
    // _merge_capped: (distance, filepath); the paths img/<row>.jpg sort as text.
    std::sort(picks.begin(), picks.end(), [](const auto& a, const auto& b) {
      return a.first < b.first || (a.first == b.first && fmt::format("img/{}.jpg", a.second) <
                                                             fmt::format("img/{}.jpg", b.second));
    });
    const size_t before = retrieved.size();
    for (const auto& p : picks) {
      if (retrieved.size() >= desired) break;
      retrieved.insert(p.second);
    }
    passes.push_back(
        {remaining.size(), k, satisfied, retrieved.size() - before,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
    if (retrieved.size() == before || unsatisfied.empty()) break;
    remaining = unsatisfied;
  }
  return retrieved;
}

}  // namespace

int main(int argc, char** argv) {
  bench::tune_like_deft(argv);
  size_t desired = 50000;
  const size_t expansion = 5;
  bench::Common c =
      bench::parse_common(argc, argv, {.work = "/tmp/deft-bench/select", .targets = 10000},
                          [&](const std::string& flag, const std::function<std::string()>& value) {
                            if (flag != "--budget") return false;
                            desired = std::stoul(value());
                            return true;
                          });
  bench::write_sets(c);
  const auto& [deft, work, targets, pool, dim, budget_mb, peer, centres, target_file, pool_file] =
      c;
  const std::string what =
      fmt::format("{} targets x {} pool x {} dims, budget {}, global", targets, pool, dim, desired);
  const std::string machine =
      fmt::format("\"cpu\": \"{}\", \"isa\": \"{}\"", bench::cpu_model(), bench::cpu_isa());

  const fs::path out = work / "selected";
  const bench::Run r = bench::run_process(
      {deft, "select", "source_path=" + pool_file.string(), "target_path=" + target_file.string(),
       "output_dir=" + out.string(), fmt::format("desired_unique_count={}", desired),
       fmt::format("memory_budget_mb={}", budget_mb), "--quiet"});
  if (r.status != 0) {
    std::cerr << "deft select failed\n";
    return 1;
  }
  std::set<uint64_t> ours;
  {
    table::Database db;
    table::Connection con(db);
    table::Result result = con.query(
        fmt::format("SELECT CAST(regexp_extract(filepath, '([0-9]+)', 1) AS UBIGINT) FROM '{}'",
                    (out / "final_unique_files.parquet").string()),
        "final", ErrorKind::kRun);
    while (table::DataChunk chunk = result.fetch_chunk()) {
      const idx_t n = duckdb_data_chunk_get_size(chunk.get());
      const auto* v = static_cast<const uint64_t*>(
          duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk.get(), 0)));
      ours.insert(v, v + n);
    }
  }
  std::string versus;
  if (peer) {
    std::vector<float> t(targets * dim), p(pool * dim);
    for (uint64_t i = 0; i < targets; ++i)
      bench::make_vector(1, i, dim, centres, &t[i * dim]);
    for (uint64_t i = 0; i < pool; ++i)
      bench::make_vector(2, i, dim, centres, &p[i * dim]);
    faiss::distance_compute_blas_database_bs = 8192;
    std::vector<PeerPass> passes;
    const auto start = std::chrono::steady_clock::now();
    const std::set<uint64_t> theirs = reference_port(t, p, dim, desired, expansion, passes);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (size_t i = 0; i < passes.size(); ++i) {
      std::cout << fmt::format(
          "{{\"what\": \"{}\", \"impl\": \"reference port on faiss IndexFlatL2 (in memory)\", "
          "\"pass\": {}, \"targets\": {}, \"k\": {}, \"satisfied\": {}, \"merged\": {}, "
          "\"seconds\": {:.3f}}}\n",
          what, i + 1, passes[i].targets, passes[i].k, passes[i].satisfied, passes[i].merged,
          passes[i].seconds);
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    size_t same = 0;
    for (uint64_t f : theirs)
      same += ours.count(f);
    std::cout << fmt::format(
        "{{\"what\": \"{}\", \"impl\": \"reference port on faiss IndexFlatL2 (in memory)\", "
        "\"seconds\": {:.3f}, \"selected\": {}, \"peak_rss_mib\": {:.1f}, {}}}\n",
        what, seconds, theirs.size(), static_cast<double>(usage.ru_maxrss) / 1024.0, machine);
    versus = fmt::format(", \"same_files\": {:.5f}, \"vs_reference_port\": {:.3f}",
                         theirs.empty() ? 1.0 : static_cast<double>(same) / theirs.size(),
                         r.seconds / seconds);
  }
  std::cout << fmt::format(
      "{{\"what\": \"{}\", \"impl\": \"deft select (parquet in, outputs written)\", \"seconds\": "
      "{:.3f}, \"selected\": {}, \"peak_rss_mib\": {:.1f}, \"memory_budget_mb\": {}{}, {}}}\n",
      what, r.seconds, ours.size(), r.peak_rss_mib, budget_mb, versus, machine);
  return 0;
}
