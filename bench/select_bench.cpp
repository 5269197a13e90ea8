// deft_select_bench: `deft select` (tmm unique_neighbor_matching) against a direct port of the
// reference's algorithm (TAO mining/tmm/selection.py: every pass filters the pool, normalises
// it, builds a FAISS IndexFlatL2 in memory and searches the unsatisfied targets; then the same
// claim/rollback walk and capped merge; class_stratified: the largest-remainder quotas, each
// rare class's pool with its non-rare fallback, then the non-rare subset), in the same run on
// the same vectors, for allocation_policy global and class_stratified. Prints JSON rows: per
// subset and pass, both sides' targets, k and seconds; then both totals, the ratio, deft's peak
// RSS against its memory budget, and how far the two selections agree. Exits 1 when they
// disagree beyond near-ties (quotas, counts, or more than 0.1% of the files).
//
//   deft_select_bench --deft build/deft --work /tmp/deft-bench/select [--targets 10000]
//       [--pool 1000000] [--dim 768] [--budget 50000] [--budget-mb 1024] [--no-peer]
//       [--policy global|class_stratified|both]
//
// The vectors are mine_bench's (64 clustered centres, fixed seeds), written once as embedding
// parquets in --work. The detections are synthetic COCO files written beside them: 8 classes,
// an image's first class from its centre (centres 0–5 carry the 3 rare classes, ~9% of the
// images), a second common class on every third image. The peer holds the vectors in memory
// and is timed from its first step to its final set: for class_stratified that includes
// parsing both COCO files whole (json.load, as the reference does every run); `deft select`
// is timed as a process: parquet and COCO reading and every output.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <faiss/IndexFlat.h>
#include <faiss/utils/distances.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include "bench_data.h"
#include "table/duckdb_handles.h"

namespace fs = std::filesystem;
using namespace deft;

namespace {

constexpr size_t kMaxPasses = 8;
constexpr size_t kExpansion = 5;
const std::vector<std::string> kClassNames = {"car", "person",   "bicycle", "truck",
                                              "bus", "forklift", "scooter", "wheelchair"};
const std::vector<std::string> kRare = {"forklift", "scooter", "wheelchair"};  // sorted

std::string path_of(uint64_t row) {
  return fmt::format("img/{}.jpg", row);
}

// The classes of row `i` of set `seed` (indices into kClassNames), first the primary one.
std::vector<int> classes_of(uint64_t seed, uint64_t i, const bench::Common& c) {
  const size_t centre = bench::centre_of(seed, i, c.centres, c.dim);
  const int primary = centre < 2   ? 5
                      : centre < 4 ? 6
                      : centre < 6 ? 7
                                   : static_cast<int>(centre % 5);
  std::vector<int> out{primary};
  const auto second = static_cast<int>((centre + 1) % 5);
  if (i % 3 == 0 && second != primary) out.push_back(second);
  return out;
}

// A COCO file as annotation tools write it (images, annotations with bbox/area/iscrowd,
// categories with supercategory), ids from 1; kept when it exists.
void write_coco(const fs::path& path, uint64_t seed, uint64_t rows, const bench::Common& c) {
  if (fs::exists(path)) return;
  const fs::path partial = path.string() + ".partial";
  {
    std::ofstream out(partial);
    out << "{\"info\": {\"description\": \"deft_select_bench synthetic detections\"},\n"
           "\"images\": [";
    for (uint64_t i = 0; i < rows; ++i) {
      out << (i ? ",\n" : "\n")
          << fmt::format(R"({{"id": {}, "file_name": "{}", "width": 640, "height": 480}})", i + 1,
                         path_of(i));
    }
    out << "],\n\"annotations\": [";
    uint64_t id = 0;
    for (uint64_t i = 0; i < rows; ++i) {
      for (int cls : classes_of(seed, i, c)) {
        const int x = static_cast<int>((i * 37 + cls * 11) % 500),
                  y = static_cast<int>((i * 17) % 380);
        ++id;
        out << (id > 1 ? ",\n" : "\n")
            << fmt::format(
                   R"({{"id": {}, "image_id": {}, "category_id": {}, "bbox": [{}, {}, 96, 64], "area": 6144, "iscrowd": 0}})",
                   id, i + 1, cls + 1, x, y);
      }
    }
    out << "],\n\"categories\": [";
    for (size_t k = 0; k < kClassNames.size(); ++k) {
      out << (k ? ", " : "")
          << fmt::format(R"({{"id": {}, "name": "{}", "supercategory": "object"}})", k + 1,
                         kClassNames[k]);
    }
    out << "]}\n";
  }
  fs::rename(partial, path);
}

// The reference's _load_coco and lookup: json.load of the whole file, then each image's path
// to its classes, and each row's classes looked up by its path (the peer's timed work, as the
// reference does it every run).
std::vector<std::vector<int>> classes_from_coco(const fs::path& file, uint64_t rows) {
  const nlohmann::json coco = nlohmann::json::parse(std::ifstream(file));
  std::unordered_map<int64_t, std::string> image_path;
  for (const nlohmann::json& image : coco.at("images"))
    image_path[image.at("id").get<int64_t>()] = image.at("file_name").get<std::string>();
  std::unordered_map<int64_t, int> category;
  for (const nlohmann::json& c : coco.at("categories")) {
    const auto name = c.at("name").get<std::string>();
    category[c.at("id").get<int64_t>()] = static_cast<int>(
        std::find(kClassNames.begin(), kClassNames.end(), name) - kClassNames.begin());
  }
  std::unordered_map<std::string, std::vector<int>> by_path;
  for (const nlohmann::json& a : coco.at("annotations")) {
    const auto image = image_path.find(a.at("image_id").get<int64_t>());
    const auto cls = category.find(a.at("category_id").get<int64_t>());
    if (image == image_path.end() || cls == category.end()) continue;
    std::vector<int>& classes = by_path[image->second];
    if (std::find(classes.begin(), classes.end(), cls->second) == classes.end())
      classes.push_back(cls->second);
  }
  std::vector<std::vector<int>> out(rows);
  for (uint64_t i = 0; i < rows; ++i) {
    const auto it = by_path.find(path_of(i));
    if (it != by_path.end()) out[i] = it->second;
  }
  return out;
}

struct PassRow {
  std::string subset;
  size_t pass, targets, k, satisfied, merged;
  double seconds;
};

// The reference's vectors, normalised once here as the peer's fit() would every pass (the
// copy and normalisation per pass are timed below, as the reference does them).
struct Vectors {
  const std::vector<float>& targets;
  const std::vector<float>& pool;
  size_t dim;
};

// The reference's iterative_tmm_retrieval over rows (the paths are img/<row>.jpg, so a row is
// its file): `target_rows` against `pool_rows`, never offering `excluded`.
std::set<uint64_t> iterative(const Vectors& v, const std::vector<uint64_t>& target_rows,
                             const std::vector<uint64_t>& pool_rows,
                             const std::unordered_set<uint64_t>& excluded, size_t desired,
                             const std::string& subset, std::vector<PassRow>& passes) {
  const size_t dim = v.dim;
  std::set<uint64_t> retrieved;
  if (target_rows.empty() || desired == 0) return retrieved;
  const size_t topn = std::max<size_t>(1, (desired + target_rows.size() - 1) / target_rows.size());
  std::vector<uint64_t> remaining = target_rows;
  for (size_t iteration = 0; iteration < kMaxPasses; ++iteration) {
    if (retrieved.size() >= desired || remaining.empty()) break;
    const auto start = std::chrono::steady_clock::now();
    // perform_tmm_retrieval: filter, normalise (copies), fit, kneighbors.
    std::vector<uint64_t> kept;
    for (uint64_t r : pool_rows)
      if (excluded.count(r) == 0 && retrieved.count(r) == 0) kept.push_back(r);
    if (kept.empty()) break;
    std::vector<float> source(kept.size() * dim), query(remaining.size() * dim);
    for (size_t i = 0; i < kept.size(); ++i)
      std::copy_n(v.pool.data() + kept[i] * dim, dim, source.data() + i * dim);
    for (size_t i = 0; i < remaining.size(); ++i)
      std::copy_n(v.targets.data() + remaining[i] * dim, dim, query.data() + i * dim);
    faiss::fvec_renorm_L2(dim, kept.size(), source.data());
    faiss::fvec_renorm_L2(dim, remaining.size(), query.data());
    const size_t k = std::min(kExpansion * (iteration + 1) * topn, kept.size());
    faiss::IndexFlatL2 index(static_cast<faiss::Index::idx_t>(dim));
    index.add(static_cast<faiss::Index::idx_t>(kept.size()), source.data());
    std::vector<float> distances(remaining.size() * k);
    std::vector<faiss::Index::idx_t> labels(remaining.size() * k);
    index.search(static_cast<faiss::Index::idx_t>(remaining.size()), query.data(),
                 static_cast<faiss::Index::idx_t>(k), distances.data(), labels.data());
    // The walk: claims, rollbacks.
    std::unordered_set<uint64_t> assigned;
    std::vector<std::pair<double, uint64_t>> picks;  // (distance, row)
    std::vector<uint64_t> unsatisfied;
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
    // _merge_capped: (distance, filepath).
    std::sort(picks.begin(), picks.end(), [](const auto& a, const auto& b) {
      return a.first < b.first || (a.first == b.first && path_of(a.second) < path_of(b.second));
    });
    const size_t before = retrieved.size();
    for (const auto& p : picks) {
      if (retrieved.size() >= desired) break;
      retrieved.insert(p.second);
    }
    passes.push_back(
        {subset, iteration + 1, remaining.size(), k, satisfied, retrieved.size() - before,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
    if (retrieved.size() == before || unsatisfied.empty()) break;
    remaining = unsatisfied;
  }
  return retrieved;
}

// The reference's largest-remainder split: floors, then the leftover to the largest
// remainders, ties to the later name.
std::map<std::string, size_t> allocate(const std::map<std::string, double>& ratios,
                                       size_t desired) {
  double total = 0;
  for (const auto& [name, r] : ratios)
    total += r;
  std::map<std::string, size_t> quota;
  if (desired == 0 || total <= 0) {
    for (const auto& [name, r] : ratios)
      quota[name] = 0;
    return quota;
  }
  std::vector<std::pair<double, std::string>> remainder;
  size_t given = 0;
  for (const auto& [name, r] : ratios) {
    const double ideal = static_cast<double>(desired) * r / total;
    quota[name] = static_cast<size_t>(ideal);
    given += quota[name];
    remainder.emplace_back(ideal - static_cast<double>(quota[name]), name);
  }
  std::sort(remainder.rbegin(), remainder.rend());
  for (size_t i = 0; i < desired - given && i < remainder.size(); ++i)
    ++quota[remainder[i].second];
  return quota;
}

struct PeerResult {
  std::set<uint64_t> selected;
  std::map<std::string, size_t> quotas;  // class_stratified only
  std::vector<PassRow> passes;
};

PeerResult peer_global(const Vectors& v, size_t targets, size_t pool, size_t desired) {
  PeerResult r;
  std::vector<uint64_t> t(targets), p(pool);
  for (uint64_t i = 0; i < targets; ++i)
    t[i] = i;
  for (uint64_t i = 0; i < pool; ++i)
    p[i] = i;
  r.selected = iterative(v, t, p, {}, desired, "global", r.passes);
  return r;
}

PeerResult peer_stratified(const Vectors& v, const std::vector<std::vector<int>>& target_classes,
                           const std::vector<std::vector<int>>& pool_classes, size_t desired) {
  PeerResult r;
  const auto has = [](const std::vector<int>& classes, const std::string& name) {
    return std::any_of(classes.begin(), classes.end(),
                       [&](int c) { return kClassNames[static_cast<size_t>(c)] == name; });
  };
  const auto is_rare = [&](const std::vector<int>& classes) {
    return std::any_of(kRare.begin(), kRare.end(),
                       [&](const std::string& n) { return has(classes, n); });
  };
  std::map<std::string, std::pair<std::vector<uint64_t>, std::vector<uint64_t>>> subsets;
  std::pair<std::vector<uint64_t>, std::vector<uint64_t>> common;  // (pool, targets)
  for (uint64_t i = 0; i < pool_classes.size(); ++i) {
    for (const std::string& c : kRare)
      if (has(pool_classes[i], c)) subsets[c].first.push_back(i);
    if (!is_rare(pool_classes[i])) common.first.push_back(i);
  }
  for (uint64_t i = 0; i < target_classes.size(); ++i) {
    for (const std::string& c : kRare)
      if (has(target_classes[i], c)) subsets[c].second.push_back(i);
    if (!is_rare(target_classes[i])) common.second.push_back(i);
  }
  const auto total = static_cast<double>(target_classes.size());
  std::map<std::string, double> ratios;
  for (const std::string& c : kRare)
    ratios[c] = static_cast<double>(subsets[c].second.size()) / total;
  ratios["non_rare"] = static_cast<double>(common.second.size()) / total;
  r.quotas = allocate(ratios, desired);
  std::unordered_set<uint64_t> taken;
  for (const std::string& c : kRare) {
    const auto& [src, tgt] = subsets[c];
    const size_t q = r.quotas[c];
    if (tgt.empty() || q == 0) continue;
    std::set<uint64_t> got;
    if (!src.empty()) got = iterative(v, tgt, src, taken, q, c, r.passes);
    if (got.size() < q && !common.first.empty()) {
      std::unordered_set<uint64_t> excluded = taken;
      excluded.insert(got.begin(), got.end());
      const std::set<uint64_t> more =
          iterative(v, tgt, common.first, excluded, q - got.size(), c + "_fallback", r.passes);
      got.insert(more.begin(), more.end());
    }
    taken.insert(got.begin(), got.end());
  }
  const size_t q = r.quotas["non_rare"];
  if (!common.second.empty() && q > 0 && !common.first.empty()) {
    const std::set<uint64_t> got =
        iterative(v, common.second, common.first, taken, q, "non_rare", r.passes);
    taken.insert(got.begin(), got.end());
  }
  r.selected.insert(taken.begin(), taken.end());
  return r;
}

std::set<uint64_t> read_selection(const fs::path& file) {
  std::set<uint64_t> rows;
  table::Database db;
  table::Connection con(db);
  table::Result result = con.query(
      fmt::format("SELECT CAST(regexp_extract(filepath, '([0-9]+)', 1) AS UBIGINT) FROM '{}'",
                  file.string()),
      "final", ErrorKind::kRun);
  while (table::DataChunk chunk = result.fetch_chunk()) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    const auto* v = static_cast<const uint64_t*>(
        duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk.get(), 0)));
    rows.insert(v, v + n);
  }
  return rows;
}

// deft's "[subset] pass N: T targets searched K deep, S satisfied, M files merged; X s" lines.
std::vector<PassRow> deft_passes(const fs::path& log) {
  std::vector<PassRow> out;
  std::ifstream in(log);
  const std::regex line(
      R"(\[(\S+)\] pass (\d+): (\d+) targets searched (\d+) deep, (\d+) satisfied, (\d+) files merged; ([0-9.]+) s)");
  std::string text;
  while (std::getline(in, text)) {
    std::smatch m;
    if (!std::regex_search(text, m, line)) continue;
    out.push_back({m[1], std::stoul(m[2]), std::stoul(m[3]), std::stoul(m[4]), std::stoul(m[5]),
                   std::stoul(m[6]), std::stod(m[7])});
  }
  return out;
}

void print_passes(const std::string& what, const std::string& impl,
                  const std::vector<PassRow>& passes) {
  for (const PassRow& p : passes) {
    std::cout << fmt::format(
        "{{\"what\": \"{}\", \"impl\": \"{}\", \"subset\": \"{}\", \"pass\": {}, \"targets\": {}, "
        "\"k\": {}, \"satisfied\": {}, \"merged\": {}, \"seconds\": {:.3f}}}\n",
        what, impl, p.subset, p.pass, p.targets, p.k, p.satisfied, p.merged, p.seconds);
  }
}

const char* kPeerName = "reference port on faiss IndexFlatL2 (in memory)";
const char* kDeftName = "deft select (parquet and COCO in, outputs written)";

}  // namespace

int main(int argc, char** argv) {
  bench::tune_like_deft(argv);
  size_t desired = 50000;
  std::string policy = "both";
  bench::Common c =
      bench::parse_common(argc, argv, {.work = "/tmp/deft-bench/select", .targets = 10000},
                          [&](const std::string& flag, const std::function<std::string()>& value) {
                            if (flag == "--budget") {
                              desired = std::stoul(value());
                              return true;
                            }
                            if (flag == "--policy") {
                              policy = value();
                              return true;
                            }
                            return false;
                          });
  if (policy != "global" && policy != "class_stratified" && policy != "both") {
    std::cerr << "--policy takes global, class_stratified or both\n";
    return 2;
  }
  bench::write_sets(c);
  const std::string machine =
      fmt::format("\"cpu\": \"{}\", \"isa\": \"{}\"", bench::cpu_model(), bench::cpu_isa());
  const fs::path target_coco = c.work / fmt::format("targets_{}.coco.v1.json", c.targets);
  const fs::path pool_coco = c.work / fmt::format("pool_{}.coco.v1.json", c.pool);

  // deft first, for every policy, while this process is small: a child forked from a process
  // holding the peer's vectors would count them in its peak RSS until it execs.
  struct DeftRun {
    std::string run, what;
    bench::Run process;
    std::set<uint64_t> selected;
  };
  std::vector<DeftRun> runs;
  for (const std::string run : {"global", "class_stratified"}) {
    if (policy != "both" && policy != run) continue;
    const bool stratified = run == "class_stratified";
    const std::string what = fmt::format("{} targets x {} pool x {} dims, budget {}, {}", c.targets,
                                         c.pool, c.dim, desired, run);
    std::vector<std::string> args = {c.deft,
                                     "select",
                                     "source_path=" + c.pool_file.string(),
                                     "target_path=" + c.target_file.string(),
                                     "output_dir=" + (c.work / ("selected_" + run)).string(),
                                     fmt::format("desired_unique_count={}", desired),
                                     fmt::format("memory_budget_mb={}", c.budget_mb)};
    if (stratified) {
      write_coco(target_coco, 1, c.targets, c);
      write_coco(pool_coco, 2, c.pool, c);
      args.insert(
          args.end(),
          {"allocation_policy=class_stratified", "rare_class_list=forklift,scooter,wheelchair",
           "detection_format=coco", "source_detection_file=" + pool_coco.string(),
           "target_detection_file=" + target_coco.string()});
    }
    fs::remove_all(c.work / ("selected_" + run));
    const fs::path log = c.work / ("deft_select_" + run + ".log");
    const bench::Run r = bench::run_process(args, log);
    if (r.status != 0) {
      std::cerr << "deft select failed: see " << log << "\n";
      return 1;
    }
    print_passes(what, kDeftName, deft_passes(log));
    runs.push_back({run, what, r,
                    read_selection(c.work / ("selected_" + run) / "final_unique_files.parquet")});
  }

  std::vector<float> targets, pool;
  if (c.peer) {
    targets.resize(c.targets * c.dim);
    pool.resize(c.pool * c.dim);
    for (uint64_t i = 0; i < c.targets; ++i)
      bench::make_vector(1, i, c.dim, c.centres, &targets[i * c.dim]);
    for (uint64_t i = 0; i < c.pool; ++i)
      bench::make_vector(2, i, c.dim, c.centres, &pool[i * c.dim]);
  }
  faiss::distance_compute_blas_database_bs = 8192;
  const Vectors vectors{targets, pool, c.dim};

  bool agree = true;
  for (const DeftRun& d : runs) {
    const bool stratified = d.run == "class_stratified";
    const std::string& what = d.what;
    const bench::Run& r = d.process;
    const std::set<uint64_t>& ours = d.selected;
    std::string versus;
    if (c.peer) {
      const auto start = std::chrono::steady_clock::now();
      PeerResult theirs;
      if (stratified) {
        theirs = peer_stratified(vectors, classes_from_coco(target_coco, c.targets),
                                 classes_from_coco(pool_coco, c.pool), desired);
      } else {
        theirs = peer_global(vectors, c.targets, c.pool, desired);
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      print_passes(what, kPeerName, theirs.passes);
      rusage usage{};
      getrusage(RUSAGE_SELF, &usage);
      size_t same = 0;
      for (uint64_t f : theirs.selected)
        same += ours.count(f);
      const double same_share =
          theirs.selected.empty() ? 1.0 : static_cast<double>(same) / theirs.selected.size();
      // The same results: the same count, the same quotas, the same files but for near-ties
      // (FAISS's fp32 distances against deft's exact ones at the budget's cut).
      bool quotas_equal = true;
      if (stratified) {
        const nlohmann::json summary =
            nlohmann::json::parse(std::ifstream(c.work / ("selected_" + d.run) / "summary.json"));
        for (const auto& [name, q] : theirs.quotas) {
          const nlohmann::json& entry = name == "non_rare"
                                            ? summary["allocation"]["non_rare"]
                                            : summary["allocation"]["per_class"][name];
          if (entry.value("desired_count", size_t{0}) != q) {
            std::cerr << fmt::format("quota of {}: deft {} vs peer {}\n", name,
                                     entry.value("desired_count", size_t{0}), q);
            quotas_equal = false;
          }
        }
      }
      const bool same_result =
          quotas_equal && ours.size() == theirs.selected.size() && same_share >= 0.999;
      agree = agree && same_result;
      std::cout << fmt::format(
          "{{\"what\": \"{}\", \"impl\": \"{}\", \"seconds\": {:.3f}, \"selected\": {}, "
          "\"peak_rss_mib\": {:.1f}, {}}}\n",
          what, kPeerName, seconds, theirs.selected.size(),
          static_cast<double>(usage.ru_maxrss) / 1024.0, machine);
      versus = fmt::format(
          ", \"same_files\": {:.5f}, \"same_result\": {}, \"speedup_vs_reference_port\": {:.3f}",
          same_share, same_result, seconds / r.seconds);
    }
    std::cout << fmt::format(
        "{{\"what\": \"{}\", \"impl\": \"{}\", \"seconds\": {:.3f}, \"selected\": {}, "
        "\"peak_rss_mib\": {:.1f}, \"memory_budget_mb\": {}, \"rss_within_budget_plus_512\": "
        "{}{}, {}}}\n",
        what, kDeftName, r.seconds, ours.size(), r.peak_rss_mib, c.budget_mb,
        r.peak_rss_mib <= c.budget_mb + 512, versus, machine);
    std::cout.flush();
  }
  return agree ? 0 : 1;
}
