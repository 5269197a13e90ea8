// `deft select` / `deft tmm unique_neighbor_matching` against an independent port of the
// reference algorithm (tests/data/unique_matching_reference.py: numpy, brute force), on
// seeded clustered vectors written the way the reference's pandas writes embedding parquets
// (`embedding` a LIST<DOUBLE>, no key-value metadata). Every pass file, the final list and the
// summary's fields must equal the port's.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/decode.h"
#include "image_writer.h"
#include "table/duckdb_handles.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::quoted;
using testing::split_parquet;
using testing::sql_exec;
using testing::sql_rows;
using Json = nlohmann::json;

struct Side {
  std::vector<std::string> paths;
  std::vector<std::vector<double>> vectors;
};

struct Case {
  uint32_t seed;
  size_t targets, pool, dim, desired, expansion;
  std::string metric;
  size_t repeated_paths = 0;  // pool rows that repeat an earlier row's filepath
  size_t copied_vectors = 0;  // pool rows with another row's vector under a new path
  size_t copied_targets = 0;  // targets that repeat an earlier target's vector
  bool paired = false;  // every odd pool row copies the row before it, under a path sorting first
  std::vector<std::string> exclude;
  // class_stratified / statistics: detections are generated for every image (write_detections).
  std::string policy = "global";
  std::string format;  // "coco" or "kitti"; empty: no detection files
  std::string rare;    // rare_class_list as typed
  // The pool as a folder of this many parquet files (its rows split in order, pool_parts/), not
  // one file.
  size_t pool_files = 0;
};

// Clustered vectors: five centres, each point a centre plus noise, rounded to 1e-4 so the
// SQL text carries them exactly.
struct Data {
  Side targets, pool;
};

Data make_data(const Case& c) {
  std::mt19937 rng(c.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<std::vector<double>> centres(5, std::vector<double>(c.dim));
  for (auto& centre : centres)
    for (double& x : centre)
      x = normal(rng);
  const auto point = [&] {
    const auto& centre = centres[rng() % centres.size()];
    std::vector<double> v(c.dim);
    for (size_t i = 0; i < c.dim; ++i)
      v[i] = std::round((centre[i] + 0.4 * normal(rng)) * 1e4) / 1e4;
    return v;
  };
  Data d;
  for (size_t i = 0; i < c.targets; ++i) {
    d.targets.paths.push_back(fmt::format("targets/t_{:04}.jpg", i));
    d.targets.vectors.push_back(i > 0 && i <= c.copied_targets ? d.targets.vectors[i - 1]
                                                               : point());
  }
  for (size_t i = 0; i < c.pool; ++i) {
    std::string path = fmt::format("imgs/p_{:04}.jpg", i);
    std::vector<double> v = point();
    if (i >= 10 && i < 10 + c.repeated_paths) path = d.pool.paths[i - 7];
    if (i >= 40 && i < 40 + c.copied_vectors) v = d.pool.vectors[i - 13];
    if (c.paired && i % 2 == 1) {
      path = fmt::format("imgs/a_{:04}.jpg", i);
      v = d.pool.vectors[i - 1];
    }
    d.pool.paths.push_back(path);
    d.pool.vectors.push_back(v);
  }
  return d;
}

void write_side(table::Database& db, const fs::path& path, const Side& side) {
  std::string values;
  for (size_t i = 0; i < side.paths.size(); ++i) {
    values += fmt::format("{}('{}', [{}])", i ? ", " : "", side.paths[i],
                          fmt::join(side.vectors[i], ", "));
  }
  sql_exec(db, "COPY (SELECT filepath, embedding::DOUBLE[] AS embedding FROM (VALUES " + values +
                   ") v(filepath, embedding)) TO " + quoted(path) + " (FORMAT parquet)");
}

Json side_json(const Side& s) {
  return {{"paths", s.paths}, {"vectors", s.vectors}};
}

struct Ran {
  testing::ProcessResult deft;
  Json expected;
};

// Classes drawn per image (seeded): about a third of the images have no detections, the rest
// one to three boxes of five classes spelled in mixed case. COCO names pool images by full
// path and targets by basename only (found by the basename fallback), and gives one extra,
// unrelated image the basename of a pool image in another folder (an ambiguous basename: that
// pool image is then found by its full path only). KITTI writes <stem>.txt per image, with a
// DontCare line and a short line that the reader skips.
void write_detections(const fs::path& dir, const Case& c, const Data& d) {
  std::mt19937 rng(c.seed * 7919U);
  const std::vector<std::string> classes = {"person", "car", "Bus", "bicycle", "Dog"};
  const auto boxes_for = [&] {
    std::vector<std::pair<std::string, std::array<double, 4>>> boxes;
    if (rng() % 3 == 0) return boxes;
    const size_t n = 1 + rng() % 3;
    for (size_t i = 0; i < n; ++i) {
      const double x = rng() % 50, y = rng() % 50;
      const double w = 10.0 + rng() % 20, h = 10.0 + rng() % 20;
      boxes.push_back({classes[rng() % classes.size()], {x, y, w, h}});
    }
    return boxes;
  };
  for (const auto& [side, name] : {std::pair{&d.pool, "pool"}, std::pair{&d.targets, "targets"}}) {
    if (c.format == "coco") {
      Json coco = {
          {"images", Json::array()}, {"annotations", Json::array()}, {"categories", Json::array()}};
      for (size_t k = 0; k < classes.size(); ++k)
        coco["categories"].push_back({{"id", 10 + k}, {"name", classes[k]}});
      int ann = 1;
      std::set<std::string> seen;
      for (size_t i = 0; i < side->paths.size(); ++i) {
        if (!seen.insert(side->paths[i]).second) continue;  // a repeated path: one image
        const std::string file =
            side == &d.targets ? fs::path(side->paths[i]).filename().string() : side->paths[i];
        coco["images"].push_back({{"id", 1000 + i}, {"file_name", file}});
        for (const auto& [cls, box] : boxes_for()) {
          const size_t k = std::find(classes.begin(), classes.end(), cls) - classes.begin();
          coco["annotations"].push_back({{"id", ann++},
                                         {"image_id", 1000 + i},
                                         {"category_id", 10 + k},
                                         {"bbox", {box[0], box[1], box[2], box[3]}}});
        }
      }
      if (side == &d.pool) {  // the ambiguous basename
        coco["images"].push_back({{"id", 99999}, {"file_name", "other/p_0003.jpg"}});
        coco["annotations"].push_back(
            {{"id", ann++}, {"image_id", 99999}, {"category_id", 12}, {"bbox", {1, 2, 3, 4}}});
      }
      testing::write_text_file(dir / fmt::format("{}_coco.json", name), coco.dump());
    } else {
      const fs::path folder = dir / fmt::format("{}_kitti", name);
      fs::create_directories(folder);
      for (size_t i = 0; i < side->paths.size(); ++i) {
        std::string text = "DontCare -1 -1 -10 1 1 5 5 -1 -1 -1 -1000 -1000 -1000 -10\nshort 0 0\n";
        for (const auto& [cls, b] : boxes_for()) {
          text += fmt::format("{} 0.00 0 0.0 {} {} {} {} 1.5 1.6 3.9 1.0 1.0 10.0 0.0\n", cls, b[0],
                              b[1], b[0] + b[2], b[1] + b[3]);
        }
        testing::write_text_file(folder / (fs::path(side->paths[i]).stem().string() + ".txt"),
                                 text);
      }
    }
  }
}

Ran run_both(const testing::ScratchDir& dir, const Case& c,
             const std::vector<std::string>& extra = {}) {
  const Data d = make_data(c);
  if (!c.format.empty()) write_detections(dir.path(), c, d);
  table::Database db;
  write_side(db, dir / "targets.parquet", d.targets);
  write_side(db, dir / "pool.parquet", d.pool);
  if (c.pool_files > 0) split_parquet(db, dir / "pool.parquet", dir / "pool_parts", c.pool_files);

  if (!c.exclude.empty()) {
    std::string values;
    for (const std::string& p : c.exclude)
      values += (values.empty() ? "('" : ", ('") + p + "')";
    sql_exec(db, "COPY (SELECT * FROM (VALUES " + values + ") v(filepath)) TO " +
                     quoted(dir / "exclude.parquet") + " (FORMAT parquet)");
  }
  Json input = {{"targets", side_json(d.targets)},
                {"pool", side_json(d.pool)},
                {"desired", c.desired},
                {"expansion", c.expansion},
                {"metric", c.metric},
                {"exclude", c.exclude},
                {"policy", c.policy},
                {"rare", c.rare}};
  const std::string suffix = c.format == "coco" ? "_coco.json" : "_kitti";
  if (!c.format.empty()) {
    input["format"] = c.format;
    input["source_detections"] = (dir / ("pool" + suffix)).string();
    input["target_detections"] = (dir / ("targets" + suffix)).string();
  }
  testing::write_text_file(dir / "case.json", input.dump());
  const auto port = testing::run_process(
      {"/usr/bin/python3", DEFT_SOURCE_DIR "/tests/data/unique_matching_reference.py",
       (dir / "case.json").string(), (dir / "expected.json").string()});
  EXPECT_EQ(port.exit_code, 0) << port.err;
  std::vector<std::string> args = {
      "tmm",
      "unique_neighbor_matching",
      c.pool_files > 0 ? "source_path=pool_parts" : "source_path=pool.parquet",
      "target_path=targets.parquet",
      "output_dir=out",
      fmt::format("desired_unique_count={}", c.desired),
      fmt::format("candidate_expansion_factor={}", c.expansion),
      "distance_metric=" + c.metric};
  if (!c.exclude.empty()) args.push_back("exclude_path=exclude.parquet");
  args.push_back("allocation_policy=" + c.policy);
  if (!c.rare.empty()) args.push_back("rare_class_list=" + c.rare);
  if (!c.format.empty()) {
    args.push_back("detection_format=" + c.format);
    args.push_back("source_detection_file=pool" + suffix);
    args.push_back("target_detection_file=targets" + suffix);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return {testing::run_deft_binary(args, dir.path()),
          Json::parse(testing::read_text_file(dir / "expected.json"))};
}

void expect_json_near(const Json& got, const Json& want, const std::string& where) {
  if (want.is_number() && got.is_number()) {
    EXPECT_NEAR(got.get<double>(), want.get<double>(), 1e-9) << where;
  } else if (want.is_object() && got.is_object()) {
    EXPECT_EQ(got.size(), want.size()) << where << ": " << got.dump() << " vs " << want.dump();
    for (const auto& [key, value] : want.items()) {
      ASSERT_TRUE(got.contains(key)) << where << "." << key;
      expect_json_near(got[key], value, where + "." + key);
    }
  } else {
    EXPECT_EQ(got, want) << where;
  }
}

void expect_same_as_port(const testing::ScratchDir& dir, const Ran& ran) {
  ASSERT_EQ(ran.deft.exit_code, 0) << ran.deft.err;
  table::Database db;
  const fs::path out = dir / "out";
  std::vector<std::string> pass_files;
  for (const std::string& name : testing::directory_entries(out))
    if (name.find("_iteration_") != std::string::npos) pass_files.push_back(name);
  std::vector<std::string> expected_files;
  for (const Json& p : ran.expected["passes"])
    expected_files.push_back(p["file"]);
  std::sort(expected_files.begin(), expected_files.end());
  ASSERT_EQ(pass_files, expected_files);
  for (const Json& p : ran.expected["passes"]) {
    const auto rows = sql_rows(db, "SELECT * FROM " + quoted(out / p["file"].get<std::string>()));
    ASSERT_EQ(rows.size(), p["rows"].size()) << p["file"];
    for (size_t r = 0; r < rows.size(); ++r) {
      const Json& want = p["rows"][r];
      EXPECT_EQ(rows[r][0], want[0].get<std::string>()) << p["file"] << " row " << r;
      const size_t topn = want[1].size();
      ASSERT_EQ(rows[r].size(), 1 + 2 * topn);
      for (size_t j = 0; j < topn; ++j) {
        EXPECT_EQ(rows[r][1 + 2 * j], want[1][j].get<std::string>())
            << p["file"] << " row " << r << " top" << j + 1;
        EXPECT_NEAR(std::stod(rows[r][2 + 2 * j]), want[2][j].get<double>(), 1e-9);
      }
    }
  }
  std::vector<std::string> final_list;
  for (const auto& row :
       sql_rows(db, "SELECT * FROM " + quoted(out / "final_unique_files.parquet"))) {
    ASSERT_EQ(row.size(), 1U);  // one column, as the reference writes it
    final_list.push_back(row[0]);
  }
  EXPECT_EQ(final_list, ran.expected["final"].get<std::vector<std::string>>());
  // selection_provenance.parquet: one row per selected file, naming the pass whose claim the
  // port merged, and the target that made it at that rank.
  const auto provenance =
      sql_rows(db, "SELECT filepath, target_filepath, subset, pass, rank FROM " +
                       quoted(out / "selection_provenance.parquet"));
  EXPECT_EQ(provenance.size(), final_list.size());
  for (const auto& row : provenance) {
    const std::string prefix = row[2] + "_iteration_" + row[3] + "_topn_";
    const Json* pass = nullptr;
    for (const Json& p : ran.expected["passes"]) {
      if (p["file"].get<std::string>().rfind(prefix, 0) == 0) pass = &p;
    }
    ASSERT_NE(pass, nullptr) << row[0] << " claimed in " << prefix;
    const auto merged = (*pass)["merged"].get<std::vector<std::string>>();
    EXPECT_TRUE(std::find(merged.begin(), merged.end(), row[0]) != merged.end())
        << row[0] << " was not merged by " << prefix;
    bool claimed = false;
    for (const Json& r : (*pass)["rows"]) {
      claimed |= r[0].get<std::string>() == row[1] &&
                 r[1][std::stoul(row[4]) - 1].get<std::string>() == row[0];
    }
    EXPECT_TRUE(claimed) << row[1] << " top" << row[4] << " is not " << row[0] << " in " << prefix;
  }
  const Json summary = Json::parse(testing::read_text_file(out / "summary.json"));
  // Every key the reference writes, with its value (numbers within 1e-9: numpy's summation
  // order differs from deft's); deft's own keys come after and are not part of the port.
  for (const auto& [key, want] : ran.expected["summary"].items()) {
    ASSERT_TRUE(summary.contains(key)) << key;
    expect_json_near(summary[key], want, key);
  }
  EXPECT_EQ(summary["retrieved_unique_count"], ran.expected["retrieved"]);
}

TEST(SelectParity, OnePassWithRoomForEveryTarget) {
  testing::ScratchDir dir;
  const Case c{.seed = 1,
               .targets = 20,
               .pool = 300,
               .dim = 8,
               .desired = 60,
               .expansion = 5,
               .metric = "euclidean"};
  expect_same_as_port(dir, run_both(dir, c));
}

// Expansion 1 keeps the search shallow, so targets collide, roll back and retry over several
// passes; repeated paths, copied vectors and copied targets make exact distance ties, which
// the budget cut breaks by filepath.
TEST(SelectParity, CollisionsRollbacksAndTiesOverSeveralPasses) {
  testing::ScratchDir dir;
  const Case c{.seed = 2,
               .targets = 30,
               .pool = 200,
               .dim = 8,
               .desired = 150,
               .expansion = 1,
               .metric = "euclidean",
               .repeated_paths = 10,
               .copied_vectors = 10,
               .copied_targets = 3};
  const Ran ran = run_both(dir, c);
  expect_same_as_port(dir, ran);
  EXPECT_GE(ran.expected["passes"].size(), 2U);
}

TEST(SelectParity, CosineWithExclusionsByPathAndByBasename) {
  testing::ScratchDir dir;
  const Case c{.seed = 3,
               .targets = 15,
               .pool = 120,
               .dim = 8,
               .desired = 50,
               .expansion = 2,
               .metric = "cosine",
               .exclude = {"elsewhere/p_0005.jpg", "imgs/p_0007.jpg", "p_0011.jpg"}};
  const Ran ran = run_both(dir, c);
  expect_same_as_port(dir, ran);
  table::Database db;
  EXPECT_TRUE(sql_rows(db, "SELECT * FROM " + quoted(dir / "out/final_unique_files.parquet") +
                               " WHERE filepath IN ('imgs/p_0005.jpg', 'imgs/p_0007.jpg', "
                               "'imgs/p_0011.jpg')")
                  .empty());
}

// Two targets, topn 4, budget 7: each target takes two pairs of identical vectors, so the
// eight picks sort as four distance ties and the cut at 7 splits the last pair. The search
// meets each pair's original row first (ties by row); the cut keeps the copy, whose path
// sorts first (ties by filepath).
TEST(SelectParity, TheBudgetCutSplitsAnExactTieByFilepath) {
  testing::ScratchDir dir;
  const Case c{.seed = 5,
               .targets = 2,
               .pool = 40,
               .dim = 6,
               .desired = 7,
               .expansion = 5,
               .metric = "euclidean",
               .paired = true};
  const Ran ran = run_both(dir, c);
  expect_same_as_port(dir, ran);
  ASSERT_EQ(ran.expected["passes"].size(), 1U);
  // The eighth pick, cut by the budget: an original (p_), its copy (a_) kept.
  const Json& rows = ran.expected["passes"][0]["rows"];
  std::vector<std::string> picked;
  for (const Json& r : rows)
    for (const Json& f : r[1])
      picked.push_back(f);
  const std::vector<std::string> final_list = ran.expected["final"];
  std::vector<std::string> cut;
  for (const std::string& f : picked)
    if (std::find(final_list.begin(), final_list.end(), f) == final_list.end()) cut.push_back(f);
  ASSERT_EQ(cut.size(), 1U);
  EXPECT_THAT(cut[0], HasSubstr("/p_"));
}

// class_stratified from COCO: two rare classes typed in mixed case with spaces; the classes'
// own pools, the fallback to the non-rare pool, the non-rare quota, and every summary key.
TEST(SelectParity, ClassStratifiedFromCoco) {
  testing::ScratchDir dir;
  const Case c{.seed = 6,
               .targets = 24,
               .pool = 160,
               .dim = 8,
               .desired = 40,
               .expansion = 2,
               .metric = "euclidean",
               .repeated_paths = 4,
               .policy = "class_stratified",
               .format = "coco",
               .rare = " bus, Bicycle "};
  const Ran ran = run_both(dir, c);
  expect_same_as_port(dir, ran);
  EXPECT_EQ(ran.expected["summary"]["allocation"]["total_desired"], 40);
  // The pool's COCO file gives other/p_0003.jpg the basename of imgs/p_0003.jpg: reported.
  EXPECT_THAT(ran.deft.err, HasSubstr("1 basenames name more than one image in a COCO file (e.g. "
                                      "'p_0003.jpg')"));
}

// Contended subsets: every subset needs a second pass, which its seed lists (two passes
// deep) cannot answer. The first such pass's read also searches the later subsets' targets that
// their own first pass will leave short; the result is the port's either way.
TEST(SelectParity, ClassStratifiedSecondPassesReadThePoolOnceForLaterSubsets) {
  testing::ScratchDir dir;
  const Case c{.seed = 11,
               .targets = 60,
               .pool = 150,
               .dim = 6,
               .desired = 90,
               .expansion = 1,
               .metric = "euclidean",
               .copied_targets = 20,
               .policy = "class_stratified",
               .format = "coco",
               .rare = "bus,car"};
  const Ran ran = run_both(dir, c);
  expect_same_as_port(dir, ran);
  EXPECT_THAT(ran.deft.err, HasSubstr("also searches"));
}

// The same from KITTI label folders (stems), with a small pool that leaves the rare classes
// short so that they refill from the non-rare pool.
TEST(SelectParity, ClassStratifiedFromKittiWithFallbacks) {
  testing::ScratchDir dir;
  const Case c{.seed = 8,
               .targets = 30,
               .pool = 60,
               .dim = 6,
               .desired = 45,
               .expansion = 1,
               .metric = "cosine",
               .policy = "class_stratified",
               .format = "kitti",
               .rare = "dog,car"};
  const Ran ran = run_both(dir, c);
  expect_same_as_port(dir, ran);
  bool fallback = false;
  for (const Json& p : ran.expected["passes"])
    fallback |= p["file"].get<std::string>().find("_fallback_") != std::string::npos;
  EXPECT_TRUE(fallback);
}

// global with detection files: the dataset statistics are added.
TEST(SelectParity, GlobalWithDetectionsAddsTheDatasetStatistics) {
  testing::ScratchDir dir;
  const Case c{.seed = 9,
               .targets = 10,
               .pool = 80,
               .dim = 6,
               .desired = 25,
               .expansion = 5,
               .metric = "euclidean",
               .format = "coco",
               .rare = "person"};
  const Ran ran = run_both(dir, c);
  expect_same_as_port(dir, ran);
  EXPECT_TRUE(ran.expected["summary"].contains("resultant_dataset"));
}

// A folder of parquet files is one pool, its rows numbered across the files (tao-compat.md):
// read in blocks placed by DuckDB's parallel scan (table/parquet_share.h), kept in memory or,
// under a budget of 0.01 MiB (the pool's 200 × 64 floats are 50 KiB), read again by every pass
// in blocks of 20 rows that end inside and at the ends of the files (66, 67 and 67 rows). Both
// select as the port does from the single file.
TEST(SelectParity, AFolderPoolSelectsAsTheSingleFileInMemoryAndStreamed) {
  for (const char* budget : {"1024", "0.01"}) {
    SCOPED_TRACE(budget);
    testing::ScratchDir dir;
    const Case c{.seed = 2,
                 .targets = 30,
                 .pool = 200,
                 .dim = 64,
                 .desired = 150,
                 .expansion = 1,
                 .metric = "euclidean",
                 .repeated_paths = 10,
                 .copied_vectors = 10,
                 .copied_targets = 3,
                 .pool_files = 3};
    const Ran ran = run_both(dir, c, {std::string("memory_budget_mb=") + budget});
    EXPECT_THAT(ran.deft.err, HasSubstr(std::string(budget) == "1024"
                                            ? "pool vectors held in memory after the first search"
                                            : "pool vectors read from the table by every search"));
    expect_same_as_port(dir, ran);
    EXPECT_GE(ran.expected["passes"].size(), 2U);
  }
}

// A budget near the pool's size: the pool runs out before every target is satisfied.
TEST(SelectParity, ManhattanWithTheBudgetNearThePoolSize) {
  testing::ScratchDir dir;
  const Case c{.seed = 4,
               .targets = 7,
               .pool = 40,
               .dim = 6,
               .desired = 35,
               .expansion = 1,
               .metric = "manhattan"};
  expect_same_as_port(dir, run_both(dir, c));
}

}  // namespace
}  // namespace deft

namespace deft {
namespace {

// Two targets and four pool vectors, distances by hand (euclidean, after L2 normalisation):
//   t0 (1,0)  t1 (0,1)      a (2,0)→(1,0)  b (0,1)  c (−1,0)  d (0,−1)
// topn = ceil(2 / 2) = 1: t0 takes a (0), t1 takes b (0); both fit the budget of 2.
struct TinySelect {
  testing::ScratchDir dir;
  table::Database db;
  TinySelect() {
    sql_exec(db,
             "COPY (SELECT filepath, e::DOUBLE[] AS embedding FROM (VALUES ('t0.jpg', "
             "[1.0, 0.0]), ('t1.jpg', [0.0, 1.0])) v(filepath, e)) TO " +
                 quoted(dir / "targets.parquet") + " (FORMAT parquet)");
    sql_exec(db,
             "COPY (SELECT filepath, e::DOUBLE[] AS embedding FROM (VALUES ('a.jpg', [2.0, "
             "0.0]), ('b.jpg', [0.0, 1.0]), ('c.jpg', [-1.0, 0.0]), ('d.jpg', [0.0, -1.0])) "
             "v(filepath, e)) TO " +
                 quoted(dir / "pool.parquet") + " (FORMAT parquet)");
  }
  testing::ProcessResult select(std::vector<std::string> extra) {
    std::vector<std::string> args = {"select", "source_path=pool.parquet",
                                     "target_path=targets.parquet", "output_dir=out",
                                     "desired_unique_count=2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_deft_binary(args, dir.path());
  }
  std::vector<std::vector<std::string>> rows(const std::string& file) {
    return sql_rows(db, "SELECT * FROM " + quoted(dir / "out" / file));
  }
};

TEST(SelectOutputs, SummaryJsonStartsWithTheReferenceKeysInItsFormat) {
  TinySelect s;
  const auto r = s.select({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string summary = testing::read_text_file(s.dir / "out/summary.json");
  // json.dump(summary, indent=2): two-space indent, ", "-free lines, 100.0 as a float.
  const std::string reference_part =
      "{\n"
      "  \"allocation_policy\": \"global\",\n"
      "  \"desired_unique_count\": 2,\n"
      "  \"retrieved_unique_count\": 2,\n"
      "  \"coverage_pct\": 100.0,\n"
      "  \"target_queries\": 2,\n"
      "  \"rare_classes\": [],\n";
  EXPECT_EQ(summary.substr(0, reference_part.size()), reference_part);
  EXPECT_NE(summary.back(), '\n');  // json.dump writes no final newline
  EXPECT_THAT(
      s.rows("global_iteration_1_topn_1.parquet"),
      ElementsAre(ElementsAre("t0.jpg", "a.jpg", "0.0"), ElementsAre("t1.jpg", "b.jpg", "0.0")));
  EXPECT_THAT(s.rows("final_unique_files.parquet"),
              ElementsAre(ElementsAre("a.jpg"), ElementsAre("b.jpg")));
  // Provenance: file, claiming target and its row, subset, pass, rank, distance, merge order.
  EXPECT_THAT(s.rows("selection_provenance.parquet"),
              ElementsAre(ElementsAre("a.jpg", "t0.jpg", "0", "global", "1", "1", "0.0", "1"),
                          ElementsAre("b.jpg", "t1.jpg", "1", "global", "1", "1", "0.0", "2")));
}

// save_embeddings: the target's and each pick's vector as the tables hold them (a is (2, 0),
// not its normalised (1, 0)), as lists of doubles after the columns they belong to.
TEST(SelectOutputs, SaveEmbeddingsAddsTheVectorsAsRead) {
  TinySelect s;
  ASSERT_EQ(s.select({"save_embeddings=true"}).exit_code, 0);
  const std::string file = quoted(s.dir / "out/global_iteration_1_topn_1.parquet");
  EXPECT_THAT(
      sql_rows(s.db, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM " + file + ")"),
      ElementsAre(ElementsAre("target_filepath", "VARCHAR"),
                  ElementsAre("target_embedding", "DOUBLE[]"),
                  ElementsAre("top1_source_filepath", "VARCHAR"),
                  ElementsAre("top1_distance", "DOUBLE"), ElementsAre("top1_embed", "DOUBLE[]")));
  EXPECT_THAT(s.rows("global_iteration_1_topn_1.parquet"),
              ElementsAre(ElementsAre("t0.jpg", "[1.0, 0.0]", "a.jpg", "0.0", "[2.0, 0.0]"),
                          ElementsAre("t1.jpg", "[0.0, 1.0]", "b.jpg", "0.0", "[0.0, 1.0]")));
}

// The reference crashes on an exclude list covering the whole pool; deft finishes with an
// empty selection and says why, in the log and in summary.json.
TEST(SelectOutputs, AnExcludeListCoveringThePoolSelectsNothingAndSaysWhy) {
  TinySelect s;
  sql_exec(s.db,
           "COPY (SELECT * FROM (VALUES ('a.jpg'), ('elsewhere/b.jpg'), ('c.jpg'), "
           "('/x/d.jpg')) v(filepath)) TO " +
               quoted(s.dir / "used.parquet") + " (FORMAT parquet)");
  const auto r = s.select({"exclude_path=used.parquet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("excludes every one of the pool's 4 rows"));
  EXPECT_TRUE(s.rows("final_unique_files.parquet").empty());
  const Json summary = Json::parse(testing::read_text_file(s.dir / "out/summary.json"));
  EXPECT_EQ(summary["retrieved_unique_count"], 0);
  EXPECT_EQ(summary["coverage_pct"], 0.0);
  EXPECT_EQ(summary["unsatisfied_targets"]["count"], 2);
  EXPECT_EQ(summary["unsatisfied_targets"]["by_reason"]["pool_exhausted"], 2);
  EXPECT_EQ(summary["pool"]["excluded_rows"], 4);
}

// A second run into the same folder replaces the first run's pass files: a folder never mixes
// two runs' passes (the reference's distance_stats would read stale ones). A file deft did not
// write is left alone.
TEST(SelectOutputs, ARerunClearsThePassFilesItsEarlierRunWrote) {
  TinySelect s;
  ASSERT_EQ(s.select({"desired_unique_count=4"}).exit_code, 0);  // topn 2
  ASSERT_TRUE(fs::exists(s.dir / "out/global_iteration_1_topn_2.parquet"));
  testing::write_text_file(s.dir / "out/mine_iteration_notes.parquet", "not a parquet");
  ASSERT_EQ(s.select({}).exit_code, 0);  // topn 1
  EXPECT_THAT(
      testing::directory_entries(s.dir / "out"),
      ElementsAre("final_unique_files.parquet", "global_iteration_1_topn_1.parquet",
                  "mine_iteration_notes.parquet", "selection_provenance.parquet", "summary.json"));
}

TEST(SelectErrors, EachMistakeIsOneLineNamingItsKey) {
  TinySelect s;
  sql_exec(s.db, "COPY (SELECT 'a.jpg' AS filepath, [1.0, 0.0]::DOUBLE[] AS embedding) TO " +
                     quoted(s.dir / "pool.csv") + " (FORMAT csv)");
  fs::create_directories(s.dir / "mixed");
  sql_exec(s.db, "COPY (SELECT 'a.jpg' AS filepath, [1.0, 0.0]::DOUBLE[] AS embedding) TO " +
                     quoted(s.dir / "mixed/1.parquet") + " (FORMAT parquet)");
  sql_exec(s.db,
           "COPY (SELECT 'b.jpg' AS filepath, 3 AS label, [1.0, 0.0]::DOUBLE[] AS embedding) TO " +
               quoted(s.dir / "mixed/2.parquet") + " (FORMAT parquet)");
  testing::write_text_file(s.dir / "coco.json", "{}");
  testing::write_text_file(s.dir / "summary.json", "{}");  // output_dir=. must not replace inputs
  sql_exec(s.db, "COPY (SELECT 'x.jpg' AS filepath) TO " +
                     quoted(s.dir / "final_unique_files.parquet") + " (FORMAT parquet)");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"source_path=absent.parquet"}, "source_path 'absent.parquet' does not exist"},
      {{"source_path=pool.csv"}, "source_path 'pool.csv' is not a .parquet file"},
      {{"source_path=mixed"}, "2.parquet"},
      {{"exclude_path=absent.parquet"}, "exclude_path 'absent.parquet' does not exist"},
      {{"allocation_policy=class_stratified"}, "needs rare_class_list"},
      {{"allocation_policy=class_stratified", "rare_class_list=cat"},
       "needs source_detection_file"},
      {{"allocation_policy=class_stratified", "rare_class_list=cat",
        "source_detection_file=coco.json"},
       "needs target_detection_file"},
      {{"allocation_policy=class_stratified", "rare_class_list=cat",
        "source_detection_file=coco.json", "target_detection_file=coco.json"},
       "needs detection_format"},
      {{"source_detection_file=coco.json"}, "detection_format is required"},
      {{"detection_format=yolo"}, "'detection_format' must be one of"},
      {{"output_dir=coco.json"}, "output_dir 'coco.json' is a file; it must be a folder"},
      {{"output_dir=.", "source_path=summary.json"},
       "source_path 'summary.json' is not a .parquet"},
      {{"output_dir=.", "exclude_path=final_unique_files.parquet"}, "final_unique_files.parquet"},
      // Not built yet: refused before any work rather than left out of the outputs.
  };
  for (const auto& [extra, message] : cases) {
    const auto r = s.select(extra);
    EXPECT_NE(r.exit_code, 0) << message;
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_FALSE(fs::exists(s.dir / "out/summary.json")) << message;
  }
}

}  // namespace
}  // namespace deft

namespace deft {
namespace {

// visualize=true on a class_stratified run over real images (COCO detections, distances by
// hand as TinySelect's): targets t0 (Bus) and t1 (car); pool a (Bus and car), b (car), c (no
// detections), d (Bus). rare_class_list=bus splits the 2 targets 1 / 1 (quotas 1 and 1): t0
// takes a from the bus pool {a, d}; t1 takes b from the non-rare pool {b, c}.
TEST(SelectPictures, ChartsAndClassSheetsAreDrawnAtTheReferenceSizes) {
  TinySelect s;
  for (const char* name : {"t0.jpg", "t1.jpg", "a.jpg", "b.jpg", "c.jpg", "d.jpg"})
    testing::write_image(s.dir / name, 64, 48, 3, static_cast<unsigned>(name[0]));
  const auto coco =
      [](const std::vector<std::pair<std::string, std::vector<std::string>>>& images) {
        Json j = {{"images", Json::array()},
                  {"annotations", Json::array()},
                  {"categories", {{{"id", 1}, {"name", "Bus"}}, {{"id", 2}, {"name", "car"}}}}};
        int id = 1, ann = 1;
        for (const auto& [file, classes] : images) {
          j["images"].push_back({{"id", id}, {"file_name", file}, {"width", 64}, {"height", 48}});
          for (const std::string& c : classes)
            j["annotations"].push_back({{"id", ann++},
                                        {"image_id", id},
                                        {"category_id", c == "Bus" ? 1 : 2},
                                        {"bbox", {4 + 10 * (ann % 3), 4, 20, 16}}});
          ++id;
        }
        return j.dump();
      };
  testing::write_text_file(s.dir / "targets.json",
                           coco({{"t0.jpg", {"Bus"}}, {"t1.jpg", {"car"}}}));
  testing::write_text_file(
      s.dir / "pool.json",
      coco({{"a.jpg", {"Bus", "car"}}, {"b.jpg", {"car"}}, {"c.jpg", {}}, {"d.jpg", {"Bus"}}}));
  const auto r = s.select({"allocation_policy=class_stratified", "rare_class_list=bus",
                           "detection_format=coco", "source_detection_file=pool.json",
                           "target_detection_file=targets.json", "visualize=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(s.rows("final_unique_files.parquet"),
              ElementsAre(ElementsAre("a.jpg"), ElementsAre("b.jpg")));
  const auto picture = [&](const std::string& name) {
    const std::string bytes = testing::read_text_file(s.dir / "out" / name);
    return image::decode_image(
        std::span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()), {});
  };
  const auto count = [](const preprocess::RgbImage& p, uint8_t red, uint8_t green, uint8_t blue) {
    size_t n = 0;
    for (int y = 0; y < p.height; ++y)
      for (int x = 0; x < p.width; ++x) {
        const uint8_t* px = p.row(y) + 3 * x;
        n += px[0] == red && px[1] == green && px[2] == blue;
      }
    return n;
  };
  for (const char* chart : {"image_count_per_class.png", "instance_count_per_class.png"}) {
    const auto p = picture(chart);
    EXPECT_EQ(p.width, 960) << chart;  // 120 × max(8, 0.6 × 2 classes + 4)
    EXPECT_EQ(p.height, 600) << chart;
    EXPECT_GT(count(p, 0x4C, 0x72, 0xB0), 100U) << chart;  // target bars
    EXPECT_GT(count(p, 0xDD, 0x84, 0x52), 100U) << chart;  // selection bars
  }
  const auto bus = picture("viz_class_bus.png");  // one target row: 1600 × 400
  EXPECT_EQ(bus.width, 1600);
  EXPECT_EQ(bus.height, 400);
  EXPECT_GT(count(bus, 255, 0, 0), 200U);  // the Bus boxes, red and 4 px wide
  EXPECT_GT(count(bus, 0, 0, 255), 50U);   // a's car box, blue
  const auto common = picture("viz_class_non_rare.png");
  EXPECT_EQ(common.width, 1600);
  EXPECT_EQ(common.height, 400);
  EXPECT_EQ(count(common, 255, 0, 0), 0U);  // no focal class: every box blue
  EXPECT_GT(count(common, 0, 0, 255), 50U);
  // Deterministic: a second run draws the same bytes.
  const std::vector<std::string> pictures = {"image_count_per_class.png",
                                             "instance_count_per_class.png", "viz_class_bus.png",
                                             "viz_class_non_rare.png"};
  std::vector<std::string> first;
  for (const std::string& p : pictures)
    first.push_back(testing::read_text_file(s.dir / "out" / p));
  ASSERT_EQ(s.select({"allocation_policy=class_stratified", "rare_class_list=bus",
                      "detection_format=coco", "source_detection_file=pool.json",
                      "target_detection_file=targets.json", "visualize=true"})
                .exit_code,
            0);
  for (size_t i = 0; i < pictures.size(); ++i)
    EXPECT_EQ(testing::read_text_file(s.dir / "out" / pictures[i]), first[i]) << pictures[i];
}

}  // namespace
}  // namespace deft

namespace deft {
namespace {

// A class pool that falls short refills from the non-rare pool, worked by hand on TinySelect:
// targets t0 (Bus) and t1 (car); pool a (Bus), b, c, d (car). rare_class_list=bus, budget 4:
// quotas 2 and 2 (the targets split 1 / 1).
// - bus: targets {t0}, pool {a}: topn = 2 > 1 file, so no target fills it and the class gets 0.
// - bus_fallback: t0 over the non-rare pool {b, c, d} for 2: b √2 (row 1), d √2 (row 3), c 2;
//   t0 takes b and d (the distance tie by row), merged b, d (the tie by filepath).
// - non_rare: t1 over {b, c, d} less {b, d} = {c}: topn 2 > 1 file: nothing.
TEST(SelectOutputs, AShortClassPoolRefillsFromTheNonRarePool) {
  TinySelect s;
  const auto coco = [](const std::vector<std::pair<std::string, std::string>>& images) {
    Json j = {{"images", Json::array()},
              {"annotations", Json::array()},
              {"categories", {{{"id", 1}, {"name", "Bus"}}, {{"id", 2}, {"name", "car"}}}}};
    int id = 1;
    for (const auto& [file, cls] : images) {
      j["images"].push_back({{"id", id}, {"file_name", file}});
      if (!cls.empty())
        j["annotations"].push_back({{"id", id},
                                    {"image_id", id},
                                    {"category_id", cls == "Bus" ? 1 : 2},
                                    {"bbox", {1, 1, 5, 5}}});
      ++id;
    }
    return j.dump();
  };
  testing::write_text_file(s.dir / "targets.json", coco({{"t0.jpg", "Bus"}, {"t1.jpg", "car"}}));
  testing::write_text_file(
      s.dir / "pool.json",
      coco({{"a.jpg", "Bus"}, {"b.jpg", ""}, {"c.jpg", ""}, {"d.jpg", "car"}}));
  const auto r =
      s.select({"desired_unique_count=4", "allocation_policy=class_stratified",
                "rare_class_list=bus", "detection_format=coco", "source_detection_file=pool.json",
                "target_detection_file=targets.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(testing::directory_entries(s.dir / "out"),
              ElementsAre("bus_fallback_iteration_1_topn_2.parquet", "final_unique_files.parquet",
                          "selection_provenance.parquet", "summary.json"));
  const auto pass = s.rows("bus_fallback_iteration_1_topn_2.parquet");
  ASSERT_EQ(pass.size(), 1U);
  EXPECT_EQ(pass[0][0], "t0.jpg");
  EXPECT_EQ(pass[0][1], "b.jpg");
  EXPECT_NEAR(std::stod(pass[0][2]), std::sqrt(2.0), 1e-12);
  EXPECT_EQ(pass[0][3], "d.jpg");
  EXPECT_THAT(s.rows("final_unique_files.parquet"),
              ElementsAre(ElementsAre("b.jpg"), ElementsAre("d.jpg")));
  const Json summary = Json::parse(testing::read_text_file(s.dir / "out/summary.json"));
  EXPECT_EQ(summary["allocation"]["per_class"]["bus"]["desired_count"], 2);
  EXPECT_EQ(summary["allocation"]["non_rare"]["desired_count"], 2);
  EXPECT_EQ(summary["retrieved_unique_count"], 2);
  EXPECT_EQ(summary["coverage_pct"], 50.0);
  EXPECT_EQ(summary["target_queries"]["rare"], 1);
}

}  // namespace
}  // namespace deft

namespace deft {
namespace {

// The reference's own spec file, field for field (NVIDIA-TAO/tao-data-services,
// nvidia_tao_ds/mining/tmm/experiment_specs/unique_neighbor_matching.yaml), its ??? values
// given on the command line; then the same with the optional paths written as '' (TAO's
// schema lists '' as their default value), which the reference reads as unset.
TEST(SelectSpecs, ThePublishedSpecFileRunsAsItIs) {
  TinySelect s;
  fs::copy_file(fs::path(DEFT_SOURCE_DIR) / "tests/data/published/unique_neighbor_matching.yaml",
                s.dir / "unique_neighbor_matching.yaml");
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{},
        std::vector<std::string>{"exclude_path=", "source_detection_file=''",
                                 "target_detection_file=", "detection_format="}}) {
    std::vector<std::string> args = {"tmm",
                                     "unique_neighbor_matching",
                                     "-e",
                                     "unique_neighbor_matching.yaml",
                                     "source_path=pool.parquet",
                                     "target_path=targets.parquet",
                                     "output_dir=out",
                                     "desired_unique_count=2"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = testing::run_deft_binary(args, s.dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(s.rows("final_unique_files.parquet"),
                ElementsAre(ElementsAre("a.jpg"), ElementsAre("b.jpg")));
  }
}

}  // namespace
}  // namespace deft

namespace deft {
namespace {

// rare_class_list=auto takes the classes the pool is scarce for: fewer pool images with the
// class than topn × the targets with it (topn = ceil(budget / targets)), counted here from the
// COCO files as written; the run equals one given that list by hand.
TEST(SelectRareClasses, AutoTakesTheClassesThePoolIsScarceFor) {
  testing::ScratchDir dir;
  const Case c{.seed = 9,
               .targets = 24,
               .pool = 120,
               .dim = 8,
               .desired = 96,
               .expansion = 2,
               .metric = "euclidean",
               .policy = "class_stratified",
               .format = "coco"};
  const Data d = make_data(c);
  write_detections(dir.path(), c, d);
  table::Database db;
  write_side(db, dir / "targets.parquet", d.targets);
  write_side(db, dir / "pool.parquet", d.pool);
  // Images per class, by the name each side's table gives (targets: COCO names them by
  // basename; pool: by path).
  const auto images_per_class = [&](const char* file, const std::vector<std::string>& paths,
                                    bool by_basename) {
    const Json coco = Json::parse(testing::read_text_file(dir / file));
    std::map<int, std::string> category;
    for (const Json& k : coco["categories"]) {
      std::string name = k["name"].get<std::string>();
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      category[k["id"].get<int>()] = name;
    }
    std::map<int, std::set<std::string>> classes_of_image;
    for (const Json& a : coco["annotations"])
      classes_of_image[a["image_id"].get<int>()].insert(category[a["category_id"].get<int>()]);
    std::map<std::string, std::set<std::string>> by_name;  // image name → classes
    for (const Json& i : coco["images"])
      by_name[i["file_name"].get<std::string>()] = classes_of_image[i["id"].get<int>()];
    std::map<std::string, size_t> count;
    for (const std::string& p : std::set<std::string>(paths.begin(), paths.end())) {
      const auto it = by_name.find(by_basename ? fs::path(p).filename().string() : p);
      if (it == by_name.end()) continue;
      for (const std::string& k : it->second)
        ++count[k];
    }
    return count;
  };
  const auto targets = images_per_class("targets_coco.json", d.targets.paths, true);
  const auto pool = images_per_class("pool_coco.json", d.pool.paths, false);
  const size_t topn = (c.desired + c.targets - 1) / c.targets;
  std::vector<std::string> scarce;
  for (const auto& [name, n] : targets) {
    const auto it = pool.find(name);
    if ((it == pool.end() ? 0 : it->second) < topn * n) scarce.push_back(name);
  }
  ASSERT_FALSE(scarce.empty());
  ASSERT_LT(scarce.size(), targets.size());  // the case must tell the two kinds apart

  const auto select = [&](const std::string& rare, const std::string& out) {
    return testing::run_deft_binary(
        {"select", "source_path=pool.parquet", "target_path=targets.parquet", "output_dir=" + out,
         fmt::format("desired_unique_count={}", c.desired), "candidate_expansion_factor=2",
         "allocation_policy=class_stratified", "rare_class_list=" + rare, "detection_format=coco",
         "source_detection_file=pool_coco.json", "target_detection_file=targets_coco.json"},
        dir.path());
  };
  const auto automatic = select("auto", "auto");
  ASSERT_EQ(automatic.exit_code, 0) << automatic.err;
  const auto by_hand = select(fmt::format("{}", fmt::join(scarce, ",")), "by_hand");
  ASSERT_EQ(by_hand.exit_code, 0) << by_hand.err;
  Json a = Json::parse(testing::read_text_file(dir / "auto" / "summary.json"));
  Json b = Json::parse(testing::read_text_file(dir / "by_hand" / "summary.json"));
  EXPECT_EQ(a["rare_classes"], Json(scarce));
  EXPECT_EQ(a["allocation"], b["allocation"]);
  EXPECT_EQ(a["retrieved_unique_count"], b["retrieved_unique_count"]);
  EXPECT_EQ(testing::read_text_file(dir / "auto" / "final_unique_files.parquet").size() > 0, true);
  EXPECT_EQ(sql_rows(db, "SELECT * FROM read_parquet(" +
                             quoted(dir / "auto" / "final_unique_files.parquet") + ")"),
            sql_rows(db, "SELECT * FROM read_parquet(" +
                             quoted(dir / "by_hand" / "final_unique_files.parquet") + ")"));
}

}  // namespace
}  // namespace deft
