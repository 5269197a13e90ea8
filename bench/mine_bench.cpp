// deft_mine_bench: `deft mine` (exact, cosine) against a direct FAISS IndexFlatIP search of the
// same vectors, in the same run. Prints JSON rows: seconds, the ratio deft / FAISS, peak RSS,
// and how many of FAISS's neighbours deft returned too.
//
//   deft_mine_bench --deft build/deft --work /tmp/deft-bench/mine [--targets 1000]
//       [--pool 1000000] [--dim 768] [--topn 5] [--budget-mb 1024] [--no-peer]
//
// The vectors: unit-length, around 64 random centres, from a fixed seed; written once as
// targets/pool embedding parquets (kept in --work for the next run). The peer gets the same
// floats in memory (normalised again, as FAISS users do) and is timed from IndexFlatIP::add to
// the end of search; `deft mine` is timed as a process, parquet reading and outputs included.
// Both see FAISS's BLAS block of 8192 database rows and passive OpenMP waits (deft sets both
// for itself; the peer is given them too).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <faiss/IndexFlat.h>
#include <faiss/utils/distances.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_data.h"
#include "kernels/int8_product.h"
#include "model/fingerprint.h"
#include "table/duckdb_handles.h"
#include "table/embedding_table.h"
#include "table/table_reader.h"

namespace fs = std::filesystem;
using namespace deft;

namespace {

// "key: value" line of a summary file; "" when absent.
std::string summary_line(const fs::path& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ": ", 0) == 0) return line.substr(key.size() + 2);
  }
  return "";
}

// The int8 product the exact search runs (kernels::Int8Product: 2,048 pool rows against 512
// targets of `dim` bytes, as index/bounded_candidates.h scores a chunk), in GOPS (2 per
// multiply-add), best of a second of repeats.
double int8_peak_gops(size_t dim) {
  constexpr int kRows = 2048, kTargets = 512;
  std::vector<int8_t> w(static_cast<size_t>(kTargets) * dim, 3);
  std::vector<uint8_t> x(static_cast<size_t>(kRows) * dim, 130);
  std::vector<int32_t> y(static_cast<size_t>(kRows) * kTargets);
  const kernels::Int8Product product(w.data(), static_cast<int>(dim), kTargets);
  product.apply(x.data(), kRows, y.data());  // warm-up: primitive creation
  double best = 1e30;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < until) {
    const auto t0 = std::chrono::steady_clock::now();
    product.apply(x.data(), kRows, y.data());
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return 2.0 * kRows * kTargets * static_cast<double>(dim) / best / 1e9;
}

// From deft mine's log: "mining: S s; reading the pool took R s, of which the search waited
// W s" (the block reader's own timing, src/mine/pool_stream.cpp), as JSON fields; "" when the
// run took the streamed path (no such line).
std::string reading_share(const fs::path& log) {
  std::ifstream in(log);
  std::string line;
  const std::string key = "reading the pool took";
  while (std::getline(in, line)) {
    const size_t at = line.find("mining: ");
    if (at == std::string::npos || line.find(key) == std::string::npos) continue;
    double search = 0, reading = 0, waited = 0;
    if (std::sscanf(line.c_str() + at,
                    "mining: %lf s; reading the pool took %lf s, of which the search waited %lf s",
                    &search, &reading, &waited) != 3 ||
        search <= 0) {
      continue;  // not that line, or a search phase too short to share out
    }
    return fmt::format(
        ", \"search_phase_seconds\": {:.2f}, \"reading_seconds\": {:.2f}, "
        "\"search_waited_for_reading_seconds\": {:.2f}, \"reading_share_of_search_phase\": "
        "{:.3f}, \"unhidden_reading_share\": {:.3f}",
        search, reading, waited, reading / search, waited / search);
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  bench::tune_like_deft(argv);
  size_t topn = 5;
  bench::Common c =
      bench::parse_common(argc, argv, {.work = "/tmp/deft-bench/mine", .targets = 1000},
                          [&](const std::string& flag, const std::function<std::string()>& value) {
                            if (flag != "--topn") return false;
                            topn = std::stoul(value());
                            return true;
                          });
  bench::write_sets(c);
  const auto& [deft, work, targets, pool, dim, budget_mb, peer, centres, target_file, pool_file] =
      c;

  const std::string what =
      fmt::format("{} targets x {} pool x {} dims, cosine, top {}", targets, pool, dim, topn);
  double peer_seconds = 0;
  std::vector<int64_t> peer_labels;
  if (peer) {
    std::vector<float> t(targets * dim), p(pool * dim);
    for (uint64_t i = 0; i < targets; ++i)
      bench::make_vector(1, i, dim, centres, &t[i * dim]);
    for (uint64_t i = 0; i < pool; ++i)
      bench::make_vector(2, i, dim, centres, &p[i * dim]);
    faiss::distance_compute_blas_database_bs = 8192;
    const auto start = std::chrono::steady_clock::now();
    faiss::fvec_renorm_L2(dim, targets, t.data());
    faiss::fvec_renorm_L2(dim, pool, p.data());
    faiss::IndexFlatIP index(static_cast<faiss::Index::idx_t>(dim));
    index.add(static_cast<faiss::Index::idx_t>(pool), p.data());
    std::vector<float> distances(targets * topn);
    peer_labels.resize(targets * topn);
    index.search(static_cast<faiss::Index::idx_t>(targets), t.data(),
                 static_cast<faiss::Index::idx_t>(topn), distances.data(), peer_labels.data());
    peer_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::cout << fmt::format(
        "{{\"what\": \"{}\", \"impl\": \"faiss IndexFlatIP (in memory)\", \"seconds\": {:.3f}, "
        "\"peak_rss_mib\": {:.1f}}}\n",
        what, peer_seconds, static_cast<double>(usage.ru_maxrss) / 1024.0);
  }

  const fs::path out = work / "mined.parquet";
  const bench::Run r = bench::run_process(
      {deft, "mine", "source_parquet=" + pool_file.string(),
       "target_parquet=" + target_file.string(), "output_parquet=" + out.string(),
       fmt::format("topn={}", topn), fmt::format("memory_budget_mb={}", budget_mb)},
      work / "deft_mine.log");
  if (r.status != 0) {
    std::cerr << "deft mine failed; its log: " << (work / "deft_mine.log").string() << "\n";
    return 1;
  }
  std::string agreement;
  if (peer) {
    // deft's pairs: how many of FAISS's (target, neighbour) pairs it has too.
    table::Database db;
    table::Connection con(db);
    table::Result result =
        con.query(fmt::format("SELECT target_row, pool_row FROM '{}.pairs.parquet'", out.string()),
                  "pairs", ErrorKind::kRun);
    std::vector<std::vector<int64_t>> deft_hits(targets);
    while (table::DataChunk chunk = result.fetch_chunk()) {
      const idx_t n = duckdb_data_chunk_get_size(chunk.get());
      const auto* t = static_cast<const int64_t*>(
          duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk.get(), 0)));
      const auto* p = static_cast<const int64_t*>(
          duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk.get(), 1)));
      for (idx_t i = 0; i < n; ++i)
        deft_hits[static_cast<size_t>(t[i])].push_back(p[i]);
    }
    size_t same = 0;
    for (uint64_t q = 0; q < targets; ++q) {
      for (size_t j = 0; j < topn; ++j) {
        const auto& h = deft_hits[q];
        same += std::find(h.begin(), h.end(), peer_labels[q * topn + j]) != h.end();
      }
    }
    agreement = fmt::format(
        ", \"same_neighbours\": {:.5f}, \"vs_faiss\": {:.3f}, \"faiss_over_deft\": {:.2f}",
        static_cast<double>(same) / static_cast<double>(targets * topn), r.seconds / peer_seconds,
        peer_seconds / r.seconds);
  }
  // What ran: the summary's engine line (candidate kernel and ISA), the CPU; and the whole
  // run's effective rate (targets × pool × dim multiply-adds over its seconds, parquet reading
  // included) against the int8 matmul peak measured here with the engine's own kernel.
  const std::string engine = summary_line(work / "mining_summary.txt", "index");
  const double peak = int8_peak_gops(dim);
  const double effective = 2.0 * static_cast<double>(targets) * static_cast<double>(pool) *
                           static_cast<double>(dim) / r.seconds / 1e9;
  agreement += fmt::format(
      ", \"engine\": \"{}\", \"effective_gops\": {:.1f}, \"int8_peak_gops\": {:.1f}, "
      "\"fraction_of_int8_peak\": {:.3f}, \"cpu\": \"{}\", \"isa\": \"{}\"",
      engine, effective, peak, effective / peak, bench::cpu_model(), bench::cpu_isa());
  // The share of the search phase the block reader spent in DuckDB (on its own thread), and
  // the share the search waited for it (reading not hidden behind the search).
  agreement += reading_share(work / "deft_mine.log");
  std::cout << fmt::format(
      "{{\"what\": \"{}\", \"impl\": \"deft mine (parquet in, outputs written)\", \"seconds\": "
      "{:.3f}, \"peak_rss_mib\": {:.1f}, \"memory_budget_mb\": {}{}}}\n",
      what, r.seconds, r.peak_rss_mib, budget_mb, agreement);
  return 0;
}
