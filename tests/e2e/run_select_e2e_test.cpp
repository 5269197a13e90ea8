// `deft run` in mode unique_neighbor_matching, end to end on a small labelled image set: how
// the mode is chosen (the published selection spec as it is, `action`, `mode=`, the keys set)
// and refused (keys of both modes), the run folder equal to `deft select` alone on the run's
// own embeddings, Mining_Report.md's sections and figures against counts made here from the
// files and the COCO written here, report.html's targets with the files they claimed, and the
// checks made before anything is embedded.
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image_writer.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::quoted;
using testing::ScratchDir;
using testing::sql_rows;

using Rows = std::vector<std::vector<std::string>>;

const char* kLabels[] = {"crack", "dent", "rust"};

// A COCO file as COCO writes them (images with id/file_name/width/height, annotations with
// id/image_id/category_id/bbox/area/iscrowd, categories with id/name/supercategory): one box
// of each image's label.
std::string coco_for(const std::vector<std::pair<std::string, std::string>>& images) {
  std::string img, ann;
  for (size_t i = 0; i < images.size(); ++i) {
    const int category = images[i].second == "crack" ? 1 : images[i].second == "dent" ? 2 : 3;
    img += fmt::format("{}{{\"id\": {}, \"file_name\": \"{}\", \"width\": 40, \"height\": 30}}",
                       i ? ", " : "", i + 1, images[i].first);
    ann += fmt::format(
        "{}{{\"id\": {}, \"image_id\": {}, \"category_id\": {}, \"bbox\": [2.0, 3.0, 10.0, "
        "8.0], \"area\": 80.0, \"iscrowd\": 0}}",
        i ? ", " : "", i + 1, i + 1, category);
  }
  return fmt::format(
      "{{\"info\": {{\"description\": \"deft test\"}}, \"images\": [{}], \"annotations\": [{}], "
      "\"categories\": [{{\"id\": 1, \"name\": \"crack\", \"supercategory\": \"defect\"}}, "
      "{{\"id\": 2, \"name\": \"dent\", \"supercategory\": \"defect\"}}, {{\"id\": 3, \"name\": "
      "\"rust\", \"supercategory\": \"defect\"}}]}}",
      img, ann);
}

struct SelectSet {
  ScratchDir dir;
  std::map<std::string, std::string> label_of;  // filepath → label, both tables
  std::vector<std::string> targets;             // in table order

  // targets.csv (6 images, 2 per label), pool.csv (30 images, 10 per label), their COCO
  // files, the embedding spec and the published selection spec.
  SelectSet() {
    fs::create_directories(dir / "images");
    std::string t = "filepath,label\n", p = "filepath,label\n";
    std::vector<std::pair<std::string, std::string>> t_coco, p_coco;
    for (int i = 0; i < 36; ++i) {
      const bool target = i < 6;
      const std::string name = fmt::format("images/{}{:02}.png", target ? "t" : "p", i);
      testing::write_image(dir / name, 40 + i % 5, 30 + i % 3, 3, static_cast<unsigned>(i % 12));
      const std::string label = kLabels[i % 3];
      label_of[name] = label;
      (target ? t : p) += name + "," + label + "\n";
      (target ? t_coco : p_coco).emplace_back(name, label);
      if (target) targets.push_back(name);
    }
    testing::write_text_file(dir / "targets.csv", t);
    testing::write_text_file(dir / "pool.csv", p);
    testing::write_text_file(dir / "targets_coco.json", coco_for(t_coco));
    testing::write_text_file(dir / "pool_coco.json", coco_for(p_coco));
    testing::write_text_file(dir / "embedding_spec.yaml", "model: thumbnail\nbatch_size: 8\n");
    // The reference's published spec for `tmm unique_neighbor_matching`, every file key `???`
    // (tests/data/published/SOURCES.md).
    fs::copy_file(fs::path(DEFT_SOURCE_DIR) / "tests/data/published/unique_neighbor_matching.yaml",
                  dir / "unique_neighbor_matching.yaml");
  }

  testing::ProcessResult run(std::vector<std::string> extra,
                             const std::string& spec = "unique_neighbor_matching.yaml") {
    std::vector<std::string> args = {"run", "-e", "embedding_spec.yaml"};
    if (!spec.empty()) args.insert(args.end(), {"-m", spec});
    args.insert(args.end(),
                {"target_parquet=targets.csv", "source_parquet=pool.csv", "output_dir=out"});
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_deft_binary(args, dir.path());
  }

  // The one dated folder under out/mining_results.
  fs::path folder() {
    const auto entries = testing::directory_entries(dir / "out/mining_results");
    EXPECT_EQ(entries.size(), 1U);
    return entries.empty() ? fs::path() : dir / "out/mining_results" / entries[0];
  }
};

Rows all_rows(const fs::path& parquet) {
  table::Database db;
  return sql_rows(db, "SELECT * FROM " + quoted(parquet));
}

// The lines of `text` from "## title" up to the next "## ".
std::string section(const std::string& text, const std::string& title) {
  const size_t start = text.find("## " + title + "\n");
  if (start == std::string::npos) return "(no section " + title + ")";
  const size_t end = text.find("\n## ", start + 3);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

TEST(RunSelect, ThePublishedSpecRunsAndTheFolderEqualsDeftSelectAlone) {
  SelectSet s;
  const auto r = s.run({"desired_unique_count=8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("OK\n"));
  EXPECT_THAT(r.out, HasSubstr("selected 8 of 8 unique images"));
  const fs::path folder = s.folder();
  // topn = ceil(8 / 6) = 2; one pass of 6 satisfied targets is enough on 30 distinct images.
  EXPECT_EQ(testing::directory_entries(folder),
            (std::vector<std::string>{
                "Mining_Report.md", "embedding_spec.yaml", "final_unique_files.parquet",
                "global_iteration_1_topn_2.parquet", "mining_spec.yaml", "report.html",
                "run_manifest.json", "selection_provenance.parquet", "source_embeddings.parquet",
                "summary.json", "target_embeddings.parquet", "thumbs"}));
  EXPECT_THAT(testing::read_text_file(folder / "mining_spec.yaml"),
              HasSubstr("desired_unique_count: 8\n"));

  // `deft select` alone, fed the folder's spec and the run's embeddings, writes the same.
  const auto alone =
      testing::run_deft_binary({"select", "-e", (folder / "mining_spec.yaml").string(),
                                "source_path=" + (folder / "source_embeddings.parquet").string(),
                                "target_path=" + (folder / "target_embeddings.parquet").string(),
                                "output_dir=alone", "--quiet"},
                               s.dir.path());
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  for (const char* file : {"final_unique_files.parquet", "selection_provenance.parquet",
                           "global_iteration_1_topn_2.parquet"}) {
    const Rows rows = all_rows(folder / file);
    EXPECT_FALSE(rows.empty()) << file;
    EXPECT_EQ(all_rows(s.dir / "alone" / file), rows) << file;
  }
  EXPECT_EQ(testing::read_text_file(s.dir / "alone/summary.json"),
            testing::read_text_file(folder / "summary.json"));
  EXPECT_EQ(all_rows(folder / "final_unique_files.parquet").size(), 8U);
}

TEST(RunSelect, MiningReportSectionsAndFiguresMatchTheFiles) {
  SelectSet s;
  // A budget of 3 over 6 targets: topn 1, six claims in pass 1, three cut by the budget.
  ASSERT_EQ(s.run({"desired_unique_count=3"}).exit_code, 0);
  const fs::path folder = s.folder();
  const std::string md = testing::read_text_file(folder / "Mining_Report.md");
  size_t at = 0;
  for (const char* title :
       {"Verdict", "Inputs", "Encoder Consistency", "Selection Run", "Allocation", "Coverage",
        "Per-Class Results", "Output Sanity", "Recommended Actions"}) {
    const size_t found = md.find(fmt::format("\n## {}\n", title), at);
    ASSERT_NE(found, std::string::npos) << title << " missing or out of order";
    at = found + 1;
  }
  EXPECT_THAT(section(md, "Verdict"), HasSubstr("**OK**"));
  const Rows pass = all_rows(folder / "global_iteration_1_topn_1.parquet");
  const Rows final_files = all_rows(folder / "final_unique_files.parquet");
  ASSERT_EQ(pass.size(), 6U);  // every target claimed one file
  ASSERT_EQ(final_files.size(), 3U);
  const std::string run = section(md, "Selection Run");
  EXPECT_THAT(run, HasSubstr("**3 of 3 files selected (100.0%).**"));
  EXPECT_THAT(run, HasSubstr("| global | 6 | 30 | 3 | 1 | 1 | 3 | 0 | the budget was met |"));
  EXPECT_THAT(run, HasSubstr("| global | 1 | 5 | 6 | 6 | 3 |"));  // k = 5 × 1 × 1
  EXPECT_THAT(section(md, "Allocation"), HasSubstr("topn = ceil(3 / 6) = 1"));
  EXPECT_THAT(section(md, "Coverage"), HasSubstr("| global | 6 | 3 | 3 (100.0%) | 0 | 0 |"));
  EXPECT_THAT(section(md, "Per-Class Results"), HasSubstr("Skipped: no detection file"));
  const std::string sanity = section(md, "Output Sanity");
  EXPECT_THAT(sanity, HasSubstr("has 3 rows; the summary says 3 files (they agree)"));
  EXPECT_THAT(sanity, HasSubstr("`selection_provenance.parquet` has 3 rows, one per selected"));

  // report.html: every target, each beside the files it claimed; the three claims cut by the
  // budget faded and said so; every selected file under the target the provenance names.
  const std::string html = testing::read_text_file(folder / "report.html");
  const std::regex target_div(R"(<div class="target">(.*?)</div>\n)");
  std::vector<std::string> cards;
  for (std::sregex_iterator it(html.begin(), html.end(), target_div), end; it != end; ++it)
    cards.push_back((*it)[1]);
  ASSERT_EQ(cards.size(), s.targets.size());
  size_t cut_targets = 0;  // their one claim was cut: the card says so
  for (const std::string& c : cards)
    cut_targets += c.find("<br>0 selected, 1 cut by the budget</div>") != std::string::npos;
  EXPECT_EQ(cut_targets, 3U);
  size_t cut_notes = 0;
  for (size_t p = html.find(" · cut by the budget<br>"); p != std::string::npos;
       p = html.find(" · cut by the budget<br>", p + 1))
    ++cut_notes;
  EXPECT_EQ(cut_notes, 3U);
  table::Database db;
  for (const auto& row : sql_rows(db, "SELECT target_row, filepath, target_filepath FROM " +
                                          quoted(folder / "selection_provenance.parquet"))) {
    const size_t target = std::stoul(row[0]);
    ASSERT_LT(target, cards.size());
    EXPECT_EQ(s.targets[target], row[2]);
    EXPECT_THAT(cards[target], HasSubstr("<br>" + s.targets[target] + "<br>1 selected"));
    EXPECT_THAT(cards[target], HasSubstr("· pass 1 · global<br>" + row[1]));
  }
}

TEST(RunSelect, ClassStratifiedWithCocoReportsTheAllocationAndEveryClass) {
  SelectSet s;
  const auto r =
      s.run({"desired_unique_count=6", "allocation_policy=class_stratified",
             "rare_class_list=crack", "detection_format=coco",
             "source_detection_file=pool_coco.json", "target_detection_file=targets_coco.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path folder = s.folder();
  const std::string md = testing::read_text_file(folder / "Mining_Report.md");
  // Two of the six targets hold a crack: 6 × 2/6 = 2 for crack, 6 × 4/6 = 4 for non_rare.
  const std::string allocation = section(md, "Allocation");
  EXPECT_THAT(allocation, HasSubstr("| crack | 2 | 33.33% | 2 |"));
  EXPECT_THAT(allocation, HasSubstr("| non_rare | 4 | 66.67% | 4 |"));
  EXPECT_THAT(section(md, "Coverage"), HasSubstr("| crack | 2 | 2 | 2 (100.0%) | 0 | 0 |"));
  EXPECT_THAT(section(md, "Coverage"), HasSubstr("| non_rare | 4 | 4 | 4 (100.0%) | 0 | 0 |"));
  // Per class, counted here from the labels the COCO files were written from.
  std::map<std::string, int> selected;
  for (const auto& row : all_rows(folder / "final_unique_files.parquet"))
    ++selected[s.label_of.at(row[0])];
  EXPECT_EQ(selected["crack"], 2);
  const std::string per_class = section(md, "Per-Class Results");
  for (const char* label : kLabels) {
    EXPECT_THAT(per_class,
                HasSubstr(fmt::format("| {0} | 2 | 2 | {1} | {1} |", label, selected[label])));
  }
  EXPECT_THAT(per_class, HasSubstr("| images | 6 | 6 |"));
  EXPECT_THAT(per_class, HasSubstr("| with a rare class | 2 | 2 |"));
  const std::string html = testing::read_text_file(folder / "report.html");
  EXPECT_THAT(html, HasSubstr("<td>crack</td><td>2</td><td>2</td><td>2</td><td>0</td><td>0</td>"));
  EXPECT_THAT(html, HasSubstr("<figcaption>Selected files per group</figcaption>"));
}

TEST(RunSelect, TheModeComesFromModeActionOrTheKeysSet) {
  SelectSet s;
  const auto mode_of = [](const std::string& yaml) {
    const size_t at = yaml.find("\nmode: ");
    return at == std::string::npos ? std::string("(none)")
                                   : yaml.substr(at + 7, yaml.find('\n', at + 1) - at - 7);
  };
  // The published spec: desired_unique_count is a key only `deft select` has.
  auto r = s.run({"desired_unique_count=4", "--cfg=job"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mode_of(r.out), "unique_neighbor_matching");
  EXPECT_THAT(r.out, HasSubstr("  desired_unique_count: 4\n"));
  // `action` in a -m spec, with no other key.
  testing::write_text_file(s.dir / "action.yaml", "action: unique_neighbor_matching\n");
  r = s.run({"desired_unique_count=4", "--cfg=job"}, "action.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mode_of(r.out), "unique_neighbor_matching");
  // mode= without any -m spec, the budget named in full.
  r = s.run({"mode=unique_neighbor_matching", "mining.desired_unique_count=4", "--cfg=job"}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("  desired_unique_count: 4\n"));
  // No -m spec and no selection key: nearest neighbours, as before.
  r = s.run({"--cfg=job"}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mode_of(r.out), "nearest_neighbors");
  EXPECT_THAT(r.out, HasSubstr("  topn: 5\n"));
}

TEST(RunSelect, MixedOrContradictingModesAreRefusedBeforeAnyWork) {
  SelectSet s;
  testing::write_text_file(s.dir / "mixed.yaml", "topn: 5\ndesired_unique_count: 10\n");
  auto r = s.run({}, "mixed.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("mix the two mining modes: topn belong to nearest_neighbors "
                               "(`deft mine`), desired_unique_count to unique_neighbor_matching"));
  testing::write_text_file(s.dir / "action.yaml",
                           "action: unique_neighbor_matching\ndesired_unique_count: 3\n");
  r = s.run({"mode=nearest_neighbors"}, "action.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err,
              HasSubstr("action unique_neighbor_matching contradicts mode=nearest_neighbors"));
  testing::write_text_file(s.dir / "typo.yaml", "action: unique_neighbour_matching\n");
  r = s.run({}, "typo.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err,
              HasSubstr("line 1: action 'unique_neighbour_matching' is not a mining action"));
  // The published spec's budget left at ???: named in full.
  r = s.run({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("mining.desired_unique_count"));
  EXPECT_FALSE(fs::exists(s.dir / "out"));
}

TEST(RunSelect, DetectionMistakesStopTheRunBeforeAnyImageIsEmbedded) {
  SelectSet s;
  auto r = s.run({"desired_unique_count=4", "allocation_policy=class_stratified",
                  "rare_class_list=crack", "detection_format=coco",
                  "target_detection_file=targets_coco.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("allocation_policy=class_stratified needs source_detection_file"));
  fs::path folder = s.folder();
  EXPECT_FALSE(fs::exists(folder / "target_embeddings.parquet"));
  EXPECT_THAT(testing::read_text_file(folder / "Mining_Report.md"),
              HasSubstr("**FAIL: allocation_policy=class_stratified needs source_detection_file"));
  EXPECT_THAT(testing::read_text_file(folder / "report.html"), HasSubstr("Selection report"));

  // A COCO file cut short: named, before embedding.
  fs::remove_all(s.dir / "out");
  const std::string coco = testing::read_text_file(s.dir / "pool_coco.json");
  testing::write_text_file(s.dir / "pool_coco.json", coco.substr(0, coco.size() / 2));
  r = s.run({"desired_unique_count=4", "allocation_policy=class_stratified",
             "rare_class_list=crack", "detection_format=coco",
             "source_detection_file=pool_coco.json", "target_detection_file=targets_coco.json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("pool_coco.json"));
  folder = s.folder();
  EXPECT_FALSE(fs::exists(folder / "target_embeddings.parquet"));
}

TEST(RunSelect, ABudgetThePoolCannotMeetIsACheckWithTheReasonAndTheAction) {
  SelectSet s;
  // 30 pool images, a budget of 40: topn = ceil(40 / 6) = 7; in pass 1 the first four targets
  // claim 7 each (28), the last two find 2 left and release them; pass 2 satisfies nobody.
  ASSERT_EQ(s.run({"desired_unique_count=40"}).exit_code, 0);
  const std::string md = testing::read_text_file(s.folder() / "Mining_Report.md");
  EXPECT_THAT(section(md, "Verdict"), HasSubstr("**CHECK: budget not met**"));
  EXPECT_THAT(section(md, "Verdict"),
              HasSubstr("28 of the 40 files asked for were selected (70.0%): `global` stopped "
                        "because a pass satisfied no target"));
  EXPECT_THAT(section(md, "Recommended Actions"),
              HasSubstr("`global` selected 28 of 40: fewer unclaimed pool files were left than "
                        "a target's topn = 7"));
  EXPECT_EQ(all_rows(s.folder() / "final_unique_files.parquet").size(), 28U);
  EXPECT_THAT(section(md, "Coverage"), HasSubstr("2 searches ended with a target unsatisfied"));
}

}  // namespace
}  // namespace deft
