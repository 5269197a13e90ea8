// `deft mine` as users run it, on synthetic embedding parquets: results against a brute-force
// miner written here (every metric, every label mode, with ties), a hand-checked case for the
// counts, a pool streamed in tiny blocks, and each refusal the checks promise.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/fingerprint.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::quoted;
using testing::ScratchDir;
using testing::sql_rows;

// deft re-scores in double from float vectors (normalised in double for cosine); the reference
// below uses the textbook formulas on the same floats: they agree to ~1e-7.
constexpr double kDistanceTolerance = 1e-6;

testing::ProcessResult deft(std::vector<std::string> args) {
  return testing::run_deft_binary(std::move(args));
}

struct Row {
  std::string path;
  std::optional<std::string> label;  // written as given: integer or text (see Labels)
  std::vector<float> v;
};

enum class Labels { kNone, kInteger, kText };

std::string fingerprint(const std::string& family, int dim) {
  model::EncoderFingerprint f;
  f.family = family;
  f.model_id = family == "SigLIP" ? "google/siglip-base-patch16-224" : "openai/clip-vit-base";
  f.weights_digest = "xxh3-128:" + std::string(32, family == "SigLIP" ? 'a' : 'b');
  f.preprocessing = "resize 224x224 bicubic(pillow)";
  f.input_height = f.input_width = 224;
  f.compute_dtype = "fp32";
  f.embedding_dim = dim;
  f.normalized = true;
  return f.to_json();
}

// Writes rows as an embedding parquet (filepath, [label], embedding FLOAT[]), with `encoder` in
// its key-value metadata unless empty.
void write_table(const fs::path& path, const std::vector<Row>& rows, Labels labels,
                 const std::string& encoder) {
  std::string values;
  for (const Row& r : rows) {
    std::string vector;
    for (float x : r.v) {
      vector += (vector.empty() ? "" : ", ") +
                (std::isnan(x) ? std::string("'nan'::FLOAT") : fmt::format("{:.9g}", x));
    }
    std::string label;
    if (labels == Labels::kInteger) label = r.label ? *r.label : "NULL";
    if (labels == Labels::kText) label = r.label ? "'" + *r.label + "'" : "NULL";
    values += fmt::format("{}('{}', {}[{}]::FLOAT[]{})", values.empty() ? "" : ", ", r.path,
                          label.empty() ? "" : label + ", ", vector, "");
  }
  const std::string columns =
      labels == Labels::kNone ? "filepath, embedding" : "filepath, label, embedding";
  const std::string label_cast = labels == Labels::kInteger ? "label::INTEGER AS label, "
                                 : labels == Labels::kText  ? "label::VARCHAR AS label, "
                                                            : "";
  std::string kv;
  if (!encoder.empty()) {
    std::string escaped;
    for (char c : encoder)
      escaped += c == '\'' ? std::string("''") : std::string(1, c);
    kv = ", KV_METADATA {'deft.encoder': '" + escaped + "'}";
  }
  table::Database db;
  testing::sql_exec(db, fmt::format("COPY (SELECT filepath, {}embedding FROM (VALUES {}) t({})) "
                                    "TO {} (FORMAT parquet{})",
                                    label_cast, values, columns, quoted(path), kv));
}

// ---- the reference miner ----

struct ExpectedPair {
  size_t target, pool;
  int rank;
  double distance;
  std::string dropped_by;  // "" kept
};

struct Expected {
  std::vector<ExpectedPair> pairs;
  // Mined rows in order: pool row, best pair index, hits.
  std::vector<std::tuple<size_t, size_t, int>> mined;
};

// Whether two labels match. "reference" (tao-compat.md): str(label).strip().upper(), NULL as
// "NONE"; "typed": equal values, NULL matching nothing.
bool labels_match(const std::optional<std::string>& a, const std::optional<std::string>& b,
                  const std::string& compare) {
  if (compare == "typed") return a && b && *a == *b;
  const auto key = [](const std::optional<std::string>& l) {
    if (!l) return std::string("NONE");
    std::string t = *l;
    t.erase(0, t.find_first_not_of(" \t\n\r"));
    t.erase(t.find_last_not_of(" \t\n\r") + 1);
    for (char& c : t)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return t;
  };
  return key(a) == key(b);
}

Expected reference_mine(const std::vector<Row>& targets, const std::vector<Row>& pool,
                        const std::string& metric, size_t topn, const std::string& label_mode,
                        double threshold, const std::string& compare = "reference") {
  Expected e;
  for (size_t t = 0; t < targets.size(); ++t) {
    std::vector<std::pair<double, size_t>> all;
    for (size_t p = 0; p < pool.size(); ++p) {
      if (label_mode == "within" && !labels_match(targets[t].label, pool[p].label, compare)) {
        continue;
      }
      all.emplace_back(testing::textbook_distance(metric, targets[t].v.data(), pool[p].v.data(),
                                                  targets[t].v.size()),
                       p);
    }
    std::sort(all.begin(), all.end());  // by distance, then by pool row
    for (size_t j = 0; j < std::min(topn, all.size()); ++j) {
      ExpectedPair pair{t, all[j].second, static_cast<int>(j + 1), all[j].first, ""};
      const auto& tl = targets[t].label;
      const auto& pl = pool[pair.pool].label;
      if (label_mode == "after" && !labels_match(tl, pl, compare)) {
        pair.dropped_by = "label";
      } else if (threshold >= 0 && pair.distance > threshold) {
        pair.dropped_by = "threshold";
      }
      e.pairs.push_back(pair);
    }
  }
  std::map<size_t, size_t> where;
  for (size_t i = 0; i < e.pairs.size(); ++i) {
    const ExpectedPair& p = e.pairs[i];
    if (!p.dropped_by.empty()) continue;
    auto [it, fresh] = where.try_emplace(p.pool, e.mined.size());
    if (fresh) {
      e.mined.emplace_back(p.pool, i, 1);
      continue;
    }
    auto& [row, best, hits] = e.mined[it->second];
    ++hits;
    if (p.distance < e.pairs[best].distance) best = i;
  }
  return e;
}

// ---- data ----

// Clustered vectors with exact duplicates in the pool and targets equal to pool rows (ties);
// labels 0–2 with a few NULLs.
std::pair<std::vector<Row>, std::vector<Row>> make_data(size_t pool_rows, size_t target_rows,
                                                        size_t dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<std::vector<float>> centres(4, std::vector<float>(dim));
  for (auto& c : centres) {
    for (float& x : c)
      x = 2 * normal(rng);
  }
  const auto vector = [&] {
    const auto& c = centres[rng() % centres.size()];
    std::vector<float> v(dim);
    for (size_t i = 0; i < dim; ++i)
      v[i] = c[i] + normal(rng);
    return v;
  };
  const auto label = [&](size_t i) -> std::optional<std::string> {
    if (i % 23 == 5) return std::nullopt;
    return std::to_string(rng() % 3);
  };
  std::vector<Row> pool, targets;
  for (size_t i = 0; i < pool_rows; ++i) {
    Row r{fmt::format("pool/p{:04}.jpg", i), label(i), vector()};
    if (i % 7 == 6) r.v = pool[rng() % i].v;  // an exact duplicate of an earlier row
    pool.push_back(r);
  }
  for (size_t i = 0; i < target_rows; ++i) {
    Row r{fmt::format("targets/t{:03}.jpg", i), label(i + 1), vector()};
    if (i % 3 == 0) r.v = pool[rng() % pool_rows].v;
    targets.push_back(r);
  }
  return {targets, pool};
}

std::string real(double x) {
  return fmt::format("{:.9f}", x);
}

void expect_outputs(const fs::path& out, const Expected& e, const std::vector<Row>& targets,
                    const std::vector<Row>& pool) {
  table::Database db;
  const auto pairs = sql_rows(db,
                              "SELECT target_row, pool_row, rank, distance, kept, "
                              "coalesce(dropped_by, '') FROM " +
                                  quoted(fs::path(out.string() + ".pairs.parquet")));
  ASSERT_EQ(pairs.size(), e.pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    const ExpectedPair& p = e.pairs[i];
    SCOPED_TRACE(fmt::format("pair {} (target {}, rank {})", i, p.target, p.rank));
    EXPECT_EQ(pairs[i][0], std::to_string(p.target));
    EXPECT_EQ(pairs[i][1], std::to_string(p.pool));
    EXPECT_EQ(pairs[i][2], std::to_string(p.rank));
    EXPECT_NEAR(std::stod(pairs[i][3]), p.distance, kDistanceTolerance);
    EXPECT_EQ(pairs[i][4], p.dropped_by.empty() ? "true" : "false");
    EXPECT_EQ(pairs[i][5], p.dropped_by);
  }
  const auto mined = sql_rows(db,
                              "SELECT filepath, target_filepath, distance, rank, target_hits "
                              "FROM " +
                                  quoted(out));
  ASSERT_EQ(mined.size(), e.mined.size());
  for (size_t i = 0; i < mined.size(); ++i) {
    const auto& [row, best, hits] = e.mined[i];
    SCOPED_TRACE(fmt::format("mined row {}", i));
    EXPECT_EQ(mined[i][0], pool[row].path);
    EXPECT_EQ(mined[i][1], targets[e.pairs[best].target].path);
    EXPECT_NEAR(std::stod(mined[i][2]), e.pairs[best].distance, kDistanceTolerance);
    EXPECT_EQ(mined[i][3], std::to_string(e.pairs[best].rank));
    EXPECT_EQ(mined[i][4], std::to_string(hits));
  }
}

std::string summary_value(const fs::path& folder, const std::string& key) {
  return testing::summary_value(folder / "mining_summary.txt", key);
}

// ---- tests ----

struct Case {
  std::string metric, label_mode;  // label_mode "" = no filter
  // < 0: no threshold; else the threshold falls between this quantile of the pair distances
  // and the next distinct distance (never on a distance: float noise would decide it).
  double threshold_quantile;
  std::string compare = "reference";  // label_compare
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.metric << " " << (c.label_mode.empty() ? "no filter" : c.label_mode) << " "
      << c.threshold_quantile << " " << c.compare;
}

double threshold_between(const std::vector<ExpectedPair>& pairs, double quantile) {
  std::vector<double> d;
  for (const ExpectedPair& p : pairs)
    d.push_back(p.distance);
  std::sort(d.begin(), d.end());
  size_t i = static_cast<size_t>(quantile * static_cast<double>(d.size()));
  while (i + 2 < d.size() && d[i + 1] - d[i] < 1e-4)
    ++i;
  EXPECT_GE(d[i + 1] - d[i], 1e-4) << "no gap to put the threshold in";
  return (d[i] + d[i + 1]) / 2;
}

class MineAgainstBruteForce : public ::testing::TestWithParam<Case> {};

TEST_P(MineAgainstBruteForce, PairsAndMinedRowsEqualTheReferenceAlsoInTinyBlocks) {
  const Case c = GetParam();
  ScratchDir dir;
  const auto [targets, pool] = make_data(700, 30, 8, 17);
  write_table(dir / "targets.parquet", targets, Labels::kInteger, fingerprint("SigLIP", 8));
  write_table(dir / "pool.parquet", pool, Labels::kInteger, fingerprint("SigLIP", 8));
  const double threshold =
      c.threshold_quantile < 0
          ? -1
          : threshold_between(reference_mine(targets, pool, c.metric, 5, "", -1).pairs,
                              c.threshold_quantile);
  const Expected e = reference_mine(targets, pool, c.metric, 5, c.label_mode, threshold, c.compare);
  // The data has ties inside the top-n.
  size_t ties = 0;
  for (size_t i = 1; i < e.pairs.size(); ++i) {
    ties += e.pairs[i].target == e.pairs[i - 1].target &&
            e.pairs[i].distance == e.pairs[i - 1].distance;
  }
  EXPECT_GT(ties, 0U);
  // The filters really drop pairs here (and keep some).
  const auto dropped = [&](const char* why) {
    return std::count_if(e.pairs.begin(), e.pairs.end(),
                         [&](const ExpectedPair& p) { return p.dropped_by == why; });
  };
  if (c.label_mode == "after") EXPECT_GT(dropped("label"), 0);
  if (threshold >= 0) EXPECT_GT(dropped("threshold"), 0);
  EXPECT_GT(e.mined.size(), 0U);

  for (const char* budget : {"1024", "0.01"}) {  // 0.01 MiB: blocks of 163 rows
    SCOPED_TRACE(fmt::format("memory_budget_mb={}", budget));
    const fs::path out = dir / fmt::format("mined_{}.parquet", budget);
    std::vector<std::string> args = {"mine",
                                     "source_parquet=" + (dir / "pool.parquet").string(),
                                     "target_parquet=" + (dir / "targets.parquet").string(),
                                     "output_parquet=" + out.string(),
                                     "topn=5",
                                     "knn_metric=" + c.metric,
                                     fmt::format("distance_threshold={:.17g}", threshold),
                                     std::string("memory_budget_mb=") + budget};
    if (!c.label_mode.empty()) {
      args.push_back("filter_by_label=true");
      args.push_back("label_mode=" + c.label_mode);
      args.push_back("label_compare=" + c.compare);
    }
    const auto r = deft(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_outputs(out, e, targets, pool);
    EXPECT_EQ(summary_value(dir.path(), "pool_size"), "700");
    EXPECT_EQ(summary_value(dir.path(), "queries"), "30");
    EXPECT_EQ(summary_value(dir.path(), "neighbours"), std::to_string(e.pairs.size()));
    EXPECT_EQ(summary_value(dir.path(), "unique_mined"), std::to_string(e.mined.size()));
    // The engine names its candidate kernel and its ISA.
    EXPECT_THAT(summary_value(dir.path(), "index"),
                HasSubstr(c.metric == "manhattan" ? "exact (fp32 L1 sums ("
                                                  : " inner products on oneDNN ("));
  }
}

INSTANTIATE_TEST_SUITE_P(Metrics, MineAgainstBruteForce,
                         ::testing::Values(Case{"cosine", "", -1}, Case{"euclidean", "", -1},
                                           Case{"manhattan", "", -1}, Case{"cosine", "after", -1},
                                           Case{"euclidean", "within", -1},
                                           Case{"manhattan", "after", 0.6}, Case{"cosine", "", 0.5},
                                           Case{"cosine", "after", -1, "typed"},
                                           Case{"euclidean", "within", -1, "typed"}),
                         [](const auto& p) {
                           return p.param.metric + "_" +
                                  (p.param.label_mode.empty() ? "nofilter" : p.param.label_mode) +
                                  (p.param.threshold_quantile >= 0 ? "_threshold" : "") +
                                  (p.param.compare == "typed" ? "_typed" : "");
                         });

// Two targets, six pool images on a line (euclidean): every count can be checked by hand.
//   t0 (0,0) a    t1 (10,0) b
//   p0 (1,0) a  p1 (0,2) b  p2 (9,0) b  p3 (10,3) a  p4 (1,0) a  p5 (5,0) b
// Top 4 of t0: p0 1, p4 1 (tie: p0 first), p1 2, p5 5.  Top 4 of t1: p2 1, p3 3, p5 5, p0 9.
class MineByHand : public ::testing::Test {
 protected:
  void SetUp() override {
    targets_ = {{"t0.jpg", "a", {0, 0}}, {"t1.jpg", "b", {10, 0}}};
    pool_ = {{"p0.jpg", "a", {1, 0}},  {"p1.jpg", "b", {0, 2}}, {"p2.jpg", "b", {9, 0}},
             {"p3.jpg", "a", {10, 3}}, {"p4.jpg", "a", {1, 0}}, {"p5.jpg", "b", {5, 0}}};
    write_table(dir_ / "t.parquet", targets_, Labels::kText, "");
    write_table(dir_ / "p.parquet", pool_, Labels::kText, "");
  }
  testing::ProcessResult mine(std::vector<std::string> extra) {
    std::vector<std::string> args = {"mine", "source_parquet=" + (dir_ / "p.parquet").string(),
                                     "target_parquet=" + (dir_ / "t.parquet").string(),
                                     "output_parquet=" + (dir_ / "m.parquet").string(),
                                     "knn_metric=euclidean"};
    args.insert(args.end(), extra.begin(), extra.end());
    return deft(args);
  }
  std::vector<std::vector<std::string>> mined() {
    table::Database db;
    return sql_rows(db,
                    "SELECT filepath, target_filepath, distance, rank, target_hits, label "
                    "FROM " +
                        quoted(dir_ / "m.parquet"));
  }
  std::string summary(const std::string& key) { return summary_value(dir_.path(), key); }

  ScratchDir dir_;
  std::vector<Row> targets_, pool_;
};

TEST_F(MineByHand, ThresholdDropsAndDuplicatesAreCounted) {
  const auto r = mine({"topn=4", "distance_threshold=6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // t1's p0 (9) is over 6; p5 is hit by both targets (5 and 5: the first target keeps it).
  EXPECT_EQ(mined(),
            (std::vector<std::vector<std::string>>{{"p0.jpg", "t0.jpg", "1.0", "1", "1", "a"},
                                                   {"p4.jpg", "t0.jpg", "1.0", "2", "1", "a"},
                                                   {"p1.jpg", "t0.jpg", "2.0", "3", "1", "b"},
                                                   {"p5.jpg", "t0.jpg", "5.0", "4", "2", "b"},
                                                   {"p2.jpg", "t1.jpg", "1.0", "1", "1", "b"},
                                                   {"p3.jpg", "t1.jpg", "3.0", "2", "1", "a"}}));
  EXPECT_EQ(summary("neighbours"), "8");
  EXPECT_EQ(summary("dropped_by_threshold"), "1");
  EXPECT_EQ(summary("dropped_by_label"), "0");
  EXPECT_EQ(summary("duplicates_removed"), "1");
  EXPECT_EQ(summary("unique_mined"), "6");
  EXPECT_EQ(summary("label_filter"), "off");
  EXPECT_EQ(summary("distance_threshold"), "6");
  EXPECT_THAT(summary("encoder_check"), HasSubstr("not checked"));
  EXPECT_THAT(r.err, HasSubstr("no encoder fingerprint"));
}

TEST_F(MineByHand, LabelFilterAfterTopNDropsCrossLabelPairs) {
  const auto r = mine({"topn=4", "filter_by_label=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // t0 (a) keeps p0, p4; drops p1, p5. t1 (b) keeps p2, p5; drops p3, p0.
  EXPECT_EQ(mined(),
            (std::vector<std::vector<std::string>>{{"p0.jpg", "t0.jpg", "1.0", "1", "1", "a"},
                                                   {"p4.jpg", "t0.jpg", "1.0", "2", "1", "a"},
                                                   {"p2.jpg", "t1.jpg", "1.0", "1", "1", "b"},
                                                   {"p5.jpg", "t1.jpg", "5.0", "3", "1", "b"}}));
  EXPECT_EQ(summary("neighbours"), "8");
  EXPECT_EQ(summary("dropped_by_label"), "4");
  EXPECT_EQ(summary("duplicates_removed"), "0");
  EXPECT_EQ(summary("unique_mined"), "4");
  EXPECT_THAT(summary("label_filter"), HasSubstr("on (after top-n"));
}

TEST_F(MineByHand, LabelFilterWithinLabelSearchesOnlyThatLabel) {
  const auto r = mine({"topn=2", "filter_by_label=true", "label_mode=within"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mined(),
            (std::vector<std::vector<std::string>>{{"p0.jpg", "t0.jpg", "1.0", "1", "1", "a"},
                                                   {"p4.jpg", "t0.jpg", "1.0", "2", "1", "a"},
                                                   {"p2.jpg", "t1.jpg", "1.0", "1", "1", "b"},
                                                   {"p5.jpg", "t1.jpg", "5.0", "2", "1", "b"}}));
  EXPECT_EQ(summary("dropped_by_label"), "0");
}

TEST_F(MineByHand, ProvenanceOffWritesTheReferencesSingleColumn) {
  const auto r = mine({"topn=1", "provenance=false"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  table::Database db;
  EXPECT_EQ(sql_rows(db, "SELECT * FROM " + quoted(dir_ / "m.parquet")),
            (std::vector<std::vector<std::string>>{{"p0.jpg"}, {"p2.jpg"}}));
}

TEST(MineApproximate, AnHnswIndexMinesLikeExactAndReportsItsRecall) {
  ScratchDir dir;
  const auto [targets, pool] = make_data(3000, 40, 16, 23);
  write_table(dir / "t.parquet", targets, Labels::kInteger, "");
  write_table(dir / "p.parquet", pool, Labels::kInteger, "");
  const Expected e = reference_mine(targets, pool, "euclidean", 5, "", -1);
  const auto r = deft({"mine", "source_parquet=" + (dir / "p.parquet").string(),
                       "target_parquet=" + (dir / "t.parquet").string(),
                       "output_parquet=" + (dir / "m.parquet").string(), "knn_metric=euclidean",
                       "index=HNSW32", "index_params=efSearch=128"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // On 3,000 vectors HNSW with efSearch 128 finds every exact neighbour; ties may come in
  // another order only if a duplicate was missed, which the recall would show.
  EXPECT_THAT(summary_value(dir.path(), "index"),
              HasSubstr("HNSW32 efSearch=128 (approximate: recall@5 1.0000 against exact search "
                        "on 40 sampled targets)"));
  expect_outputs(dir / "m.parquet", e, targets, pool);

  const auto bad = deft({"mine", "source_parquet=" + (dir / "p.parquet").string(),
                         "target_parquet=" + (dir / "t.parquet").string(),
                         "output_parquet=" + (dir / "m2.parquet").string(), "index=HNSW32",
                         "filter_by_label=true", "label_mode=within"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("label_mode=within needs the exact index"));
}

TEST_F(MineByHand, MoreNeighboursAskedThanThePoolHasIsNotAnError) {
  const auto r = mine({"topn=50"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(summary("neighbours"), "12");  // 2 targets × the 6 pool images
  EXPECT_EQ(summary("unique_mined"), "6");
}

// ---- the checks ----

struct Files {
  ScratchDir dir;
  fs::path targets = dir / "t.parquet", pool = dir / "p.parquet", out = dir / "m.parquet";
  testing::ProcessResult mine(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"mine", "source_parquet=" + pool.string(),
                                     "target_parquet=" + targets.string(),
                                     "output_parquet=" + out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return deft(args);
  }
  void expect_nothing_written() const {
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(dir / "m.parquet.pairs.parquet"));
    EXPECT_FALSE(fs::exists(dir / "mining_summary.txt"));
  }
};

std::vector<Row> rows(const char* prefix, size_t n, size_t dim, const char* label = "1") {
  std::vector<Row> out;
  for (size_t i = 0; i < n; ++i) {
    std::vector<float> v(dim, 0.5f);
    v[i % dim] = 1.f + static_cast<float>(i);
    out.push_back({fmt::format("{}{}.jpg", prefix, i), label, v});
  }
  return out;
}

TEST(MineChecks, DifferentEncodersAreRefusedUnlessAllowed) {
  Files f;
  write_table(f.targets, rows("t", 3, 4), Labels::kNone, fingerprint("SigLIP", 4));
  write_table(f.pool, rows("p", 5, 4), Labels::kNone, fingerprint("CLIP", 4));
  auto r = f.mine();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("were embedded by different encoders"));
  EXPECT_THAT(r.err, HasSubstr("SigLIP google/siglip-base-patch16-224"));
  EXPECT_THAT(r.err, HasSubstr("CLIP openai/clip-vit-base"));
  EXPECT_THAT(r.err, HasSubstr("allow_encoder_mismatch=true"));
  f.expect_nothing_written();

  r = f.mine({"allow_encoder_mismatch=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("mining across different encoders"));
  EXPECT_THAT(summary_value(f.dir.path(), "encoder_check"), HasSubstr("MISMATCH, allowed"));
}

TEST(MineChecks, DifferentDimensionsAreRefused) {
  Files f;
  write_table(f.targets, rows("t", 3, 4), Labels::kNone, "");
  write_table(f.pool, rows("p", 5, 6), Labels::kNone, "");
  const auto r = f.mine();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("have 4 dimensions but the pool's"));
  EXPECT_THAT(r.err, HasSubstr("have 6"));
  f.expect_nothing_written();
}

TEST(MineChecks, NanVectorsAreRefusedNamingTheirRows) {
  Files f;
  auto pool = rows("p", 8, 4);
  pool[2].v[1] = std::nanf("");
  pool[6].v[0] = std::nanf("");
  write_table(f.targets, rows("t", 3, 4), Labels::kNone, "");
  write_table(f.pool, pool, Labels::kNone, "");
  const auto r = f.mine();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("NaN or infinite values at rows 2, 6"));
  EXPECT_THAT(r.err, HasSubstr(f.pool.string()));
  f.expect_nothing_written();
}

TEST(MineChecks, AMissingLabelColumnIsLoudAndStrictMakesItAnError) {
  Files f;
  write_table(f.targets, rows("t", 3, 4), Labels::kInteger, "");
  write_table(f.pool, rows("p", 5, 4), Labels::kNone, "");
  auto r = f.mine({"filter_by_label=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("has no 'label' column"));
  EXPECT_THAT(r.err, HasSubstr("WITHOUT the label filter"));
  EXPECT_THAT(summary_value(f.dir.path(), "label_filter"), HasSubstr("REQUESTED BUT NOT APPLIED"));

  fs::remove(f.out);
  fs::remove(f.dir / "m.parquet.pairs.parquet");
  fs::remove(f.dir / "mining_summary.txt");
  r = f.mine({"filter_by_label=true", "strict=true"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("has no 'label' column"));
  f.expect_nothing_written();
}

TEST(MineChecks, IntegerAndTextLabelsAreNotComparedUnderTypedComparison) {
  Files f;
  write_table(f.targets, rows("t", 3, 4), Labels::kInteger, "");
  write_table(f.pool, rows("p", 5, 4), Labels::kText, "");
  const auto r = f.mine({"filter_by_label=true", "label_compare=typed"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("are integer (INTEGER)"));
  EXPECT_THAT(r.err, HasSubstr("are text (VARCHAR)"));
  f.expect_nothing_written();
  // Without the filter the label is only carried along: no error.
  EXPECT_EQ(f.mine().exit_code, 0);
}

}  // namespace
}  // namespace deft

namespace deft {
namespace {

// Fingerprints record how image files were decoded: a table embedded with
// shrink_on_load=false mines against one embedded with the default, with the documented
// warning; a different EXIF policy is a different encoder, refused.
TEST(MineChecks, DecodingSettingsAreComparedShrinkWarnsExifRefuses) {
  testing::ScratchDir dir;
  const fs::path tiny = fs::path(DEFT_SOURCE_DIR) / "tests/data/tiny";
  std::string csv = "filepath\n";
  for (const char* name : {"photo_640x480.jpg", "photo_1024x768.jpg", "photo_500x900.jpg"})
    csv += (tiny / "files" / name).string() + "\n";
  testing::write_text_file(dir / "images.csv", csv);
  const auto embed = [&](const std::string& output, const std::string& option) {
    const auto r = deft({"embed", "input_parquet=" + (dir / "images.csv").string(),
                         "output_parquet=" + (dir / output).string(), "model=SigLIP",
                         "model_path=" + (tiny / "siglip").string(), "precision=fp32", option});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  embed("pool.parquet", "shrink_on_load=true");
  embed("targets.parquet", "shrink_on_load=false");
  embed("targets_exif.parquet", "exif_orientation=apply");
  const auto mine = [&](const std::string& targets) {
    return deft({"mine", "source_parquet=" + (dir / "pool.parquet").string(),
                 "target_parquet=" + (dir / targets).string(),
                 "output_parquet=" + (dir / ("mined_" + targets)).string()});
  };

  auto r = mine("targets.parquet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("targets and pool were decoded differently (shrink_on_load false "
                               "vs true, targets vs pool)"));
  EXPECT_THAT(summary_value(dir.path(), "encoder_check"),
              HasSubstr("decoded differently: shrink_on_load false vs true"));

  r = mine("targets_exif.parquet");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("were embedded by different encoders"));
  EXPECT_THAT(r.err, HasSubstr("exif_orientation=apply"));
  EXPECT_THAT(r.err, HasSubstr("exif_orientation=ignore"));
  EXPECT_FALSE(fs::exists(dir / "mined_targets_exif.parquet"));
}

}  // namespace
}  // namespace deft

namespace deft {
namespace {

// A pool of `rows` rows in row groups of 1,000 written by DuckDB from SQL (dimension 6, a
// text label), as `deft embed` lays them out: embedding FLOAT[] (or DOUBLE[], as the
// reference's pandas writes it). `holes` puts a NULL embedding at row 4,321 and a 3-long one
// at row 3,210.
void write_generated_pool(const fs::path& path, size_t rows, bool doubles, bool holes,
                          size_t from = 0) {
  table::Database db;
  const std::string element = doubles ? "DOUBLE" : "FLOAT";
  std::string embedding = fmt::format(
      "[sin(i * 0.37), cos(i * 0.11), sin(i * 0.05 + 1), cos(i * 0.013), "
      "sin(i * 0.7) * 0.5, (i % 17) * 0.01]::{}[]",
      element);
  if (holes) {
    embedding = fmt::format(
        "CASE WHEN i = 4321 THEN NULL WHEN i = 3210 THEN [1, 2, 3]::{}[] "
        "ELSE {} END",
        element, embedding);
  }
  testing::sql_exec(
      db, fmt::format("COPY (SELECT 'img/' || i || '.jpg' AS filepath, "
                      "CASE WHEN i % 3 = 0 THEN 'car' ELSE 'person' END AS label, {} AS embedding "
                      "FROM range({}, {}) t(i) ORDER BY i) TO {} "
                      "(FORMAT parquet, ROW_GROUP_SIZE 1000)",
                      embedding, from, from + rows, quoted(path)));
}

std::vector<std::vector<std::string>> table_rows(const fs::path& path, const std::string& order) {
  table::Database db;
  return sql_rows(db, fmt::format("SELECT * FROM {} ORDER BY {}", quoted(path), order));
}

// A parquet pool is read by blocks placed straight into memory by DuckDB's parallel scan
// (table/parquet_blocks.h), file by file for a folder (its rows numbered across the files).
// The same rows as one file and as a folder of three files of unequal lengths, mined in small
// blocks (many blocks, each cutting row groups and ending at the files' ends) and whole, give
// the same files; float64 embeddings narrow to the same floats.
TEST(MinePoolReading, ASingleFileAndAFolderOfItMineTheSameInAnyBlockSize) {
  ScratchDir dir;
  fs::create_directories(dir / "folder");
  write_generated_pool(dir / "pool.parquet", 5000, false, false);
  write_generated_pool(dir / "folder" / "part-0.parquet", 1700, false, false, 0);
  write_generated_pool(dir / "folder" / "part-1.parquet", 1600, false, false, 1700);
  write_generated_pool(dir / "folder" / "part-2.parquet", 1700, false, false, 3300);
  write_generated_pool(dir / "pool64.parquet", 5000, true, false);
  const std::vector<Row> targets = {{"t0.jpg", "car", {0.3F, 0.9F, 0.8F, 1.0F, 0.1F, 0.05F}},
                                    {"t1.jpg", "person", {-0.5F, 0.2F, 0.1F, 0.9F, -0.2F, 0.1F}},
                                    {"t2.jpg", "car", {0.9F, -0.4F, 0.7F, 0.5F, 0.4F, 0.12F}}};
  write_table(dir / "t.parquet", targets, Labels::kText, "");
  std::vector<std::vector<std::string>> first_pairs, first_mined;
  for (const char* metric : {"cosine", "manhattan"}) {
    for (const char* budget : {"1024", "0.05"}) {  // 0.05 MiB: blocks of ~540 rows
      for (const std::string pool : {"pool.parquet", "folder", "pool64.parquet"}) {
        SCOPED_TRACE(fmt::format("{} {} {}", metric, budget, pool));
        const fs::path out =
            dir / fmt::format("m_{}_{}_{}.parquet", metric, budget, pool.substr(0, 6));
        const auto r =
            deft({"mine", "source_parquet=" + (dir / pool).string(),
                  "target_parquet=" + (dir / "t.parquet").string(),
                  "output_parquet=" + out.string(), "topn=7", std::string("knn_metric=") + metric,
                  std::string("memory_budget_mb=") + budget, "filter_by_label=true",
                  "label_mode=within"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_THAT(r.err, HasSubstr("placed by DuckDB's parallel scan"));
        EXPECT_THAT(summary_value(dir.path(), "pool_size"), "5000");
        auto pairs = table_rows(out.string() + ".pairs.parquet", "target_row, rank");
        auto mined = table_rows(out, "filepath");
        ASSERT_EQ(pairs.size(), 21U);
        if (pool == std::string("pool.parquet") && std::string(budget) == "1024") {
          first_pairs = pairs;
          first_mined = mined;
        } else {
          EXPECT_EQ(pairs, first_pairs);
          EXPECT_EQ(mined, first_mined);
        }
      }
    }
    first_pairs.clear();
  }
}

// Errors found while DuckDB's scan places the rows name the file and the file row, as the
// streamed path does, and nothing is written.
TEST(MinePoolReading, ANullOrShortEmbeddingDeepInAFileIsNamedByItsRow) {
  ScratchDir dir;
  write_generated_pool(dir / "pool.parquet", 5000, false, true);
  write_table(dir / "t.parquet",
              std::vector<Row>{{"t0.jpg", "car", {0.3F, 0.9F, 0.8F, 1.0F, 0.1F, 0.05F}}},
              Labels::kText, "");
  for (const char* budget : {"1024", "0.05"}) {
    SCOPED_TRACE(budget);
    const auto r = deft({"mine", "source_parquet=" + (dir / "pool.parquet").string(),
                         "target_parquet=" + (dir / "t.parquet").string(),
                         "output_parquet=" + (dir / "m.parquet").string(),
                         std::string("memory_budget_mb=") + budget});
    EXPECT_EQ(r.exit_code, 1);
    // Whichever the scan meets first: both are named by their file rows.
    EXPECT_THAT(r.err, ::testing::AnyOf(HasSubstr("row 3210 has an embedding of length 3, "
                                                  "expected 6"),
                                        HasSubstr("row 4321 has no embedding (NULL)")));
    EXPECT_THAT(r.err, HasSubstr((dir / "pool.parquet").string() + "' column 'embedding'"));
    EXPECT_FALSE(fs::exists(dir / "m.parquet"));
  }
}

}  // namespace
}  // namespace deft
