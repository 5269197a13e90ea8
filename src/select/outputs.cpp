#include "select/outputs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/output_set.h"
#include "index/metric.h"
#include "select/stats.h"
#include "select/visualize.h"
#include "table/parquet_writer.h"
#include "table/value_columns.h"

namespace deft::select {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using table::ValueColumn;

namespace {

constexpr const char* kSelectKey = "deft.select";  // marks the pass files deft wrote

// Python's round(x, 2): the decimal correctly rounded from the binary value, read back.
double round2(double x) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f", x);
  return std::strtod(text, nullptr);
}

std::vector<double> as_doubles(const float* v, size_t dim) {
  return {v, v + dim};
}

// The reference's columns: target_filepath, [target_embedding], then per rank j
// top<j>_source_filepath, top<j>_distance, [top<j>_embed] (save_embeddings).
std::vector<ValueColumn> pass_columns(const Pass& pass, const SelectResults& results) {
  const bool embeddings = results.pool_vectors != nullptr;
  const size_t per_rank = embeddings ? 3 : 2;
  const size_t first_rank = embeddings ? 2 : 1;
  std::vector<ValueColumn> columns;
  columns.push_back(ValueColumn::of("target_filepath", ValueColumn::Kind::kText));
  if (embeddings)
    columns.push_back(ValueColumn::of("target_embedding", ValueColumn::Kind::kRealList));
  for (size_t j = 1; j <= pass.topn; ++j) {
    columns.push_back(
        ValueColumn::of(fmt::format("top{}_source_filepath", j), ValueColumn::Kind::kText));
    columns.push_back(ValueColumn::of(fmt::format("top{}_distance", j), ValueColumn::Kind::kReal));
    if (embeddings)
      columns.push_back(
          ValueColumn::of(fmt::format("top{}_embed", j), ValueColumn::Kind::kRealList));
  }
  for (const SatisfiedTarget& s : pass.satisfied) {
    columns[0].text.emplace_back(results.target_paths[s.target]);
    if (embeddings) {
      columns[1].lists.emplace_back(
          as_doubles(results.target_vectors->data() + s.target * results.dim, results.dim));
    }
    for (size_t j = 0; j < s.picks.size(); ++j) {
      const size_t c = first_rank + per_rank * j;
      columns[c].text.emplace_back(results.files.path(s.picks[j].file));
      columns[c + 1].reals.emplace_back(s.picks[j].distance);
      if (embeddings) {
        const std::vector<float>& v = results.pool_vectors->at(s.picks[j].pool_row);
        columns[c + 2].lists.emplace_back(as_doubles(v.data(), v.size()));
      }
    }
  }
  return columns;
}

}  // namespace

std::vector<SelectedClaim> selected_claims(const SelectReport& report) {
  std::map<uint32_t, SelectedClaim> claims;
  std::map<uint32_t, size_t> order;
  size_t merged = 0;
  for (const SubsetSummary& s : report.subsets) {
    for (uint32_t f : s.result.retrieved)
      order.emplace(f, merged++);
    // The claim that was merged: a pick cut by the budget leaves its file free, and a later
    // subset may claim it again.
    const std::unordered_set<uint32_t> kept(s.result.retrieved.begin(), s.result.retrieved.end());
    for (const Pass& p : s.result.passes) {
      for (const SatisfiedTarget& t : p.satisfied) {
        for (size_t r = 0; r < t.picks.size(); ++r) {
          if (!kept.contains(t.picks[r].file)) continue;
          claims.emplace(t.picks[r].file,
                         SelectedClaim{t.picks[r].file, t.picks[r].pool_row, t.target,
                                       t.picks[r].distance, &s.name, p.number, r + 1, 0});
        }
      }
    }
  }
  std::vector<SelectedClaim> out;
  for (const auto& [file, at] : order) {
    SelectedClaim c = claims.at(file);
    c.merge_order = at;
    out.push_back(c);
  }
  return out;
}

namespace {

// For every retrieved file: who claimed it, where, how near.
std::vector<ValueColumn> provenance_columns(const SelectJob& job, const SelectReport& report,
                                            const SelectResults& results) {
  std::vector<ValueColumn> c = {
      ValueColumn::of(job.source_filepath_column, ValueColumn::Kind::kText),
      ValueColumn::of("target_filepath", ValueColumn::Kind::kText),
      ValueColumn::of("target_row", ValueColumn::Kind::kInt),
      ValueColumn::of("subset", ValueColumn::Kind::kText),
      ValueColumn::of("pass", ValueColumn::Kind::kInt),
      ValueColumn::of("rank", ValueColumn::Kind::kInt),
      ValueColumn::of("distance", ValueColumn::Kind::kReal),
      ValueColumn::of("merge_order", ValueColumn::Kind::kInt)};
  const std::vector<SelectedClaim> claims = selected_claims(report);
  for (const SelectedClaim& claim : claims) {  // by file id: filepath order, as the final list
    c[0].text.emplace_back(results.files.path(claim.file));
    c[1].text.emplace_back(results.target_paths[claim.target]);
    c[2].ints.emplace_back(static_cast<int64_t>(claim.target));
    c[3].text.emplace_back(*claim.subset);
    c[4].ints.emplace_back(claim.pass);
    c[5].ints.emplace_back(static_cast<int64_t>(claim.rank));
    c[6].reals.emplace_back(claim.distance);
    c[7].ints.emplace_back(static_cast<int64_t>(claim.merge_order + 1));
  }
  return c;
}

// Pass files of an earlier run in `dir` that deft wrote (its key in their metadata).
std::vector<fs::path> stale_pass_files(table::Database& db, const fs::path& dir) {
  std::vector<fs::path> stale;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return stale;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.find("_iteration_") == std::string::npos || e.path().extension() != ".parquet")
      continue;
    try {
      if (table::read_kv_metadata(db, e.path()).count(kSelectKey) > 0) stale.push_back(e.path());
    } catch (const std::exception&) {
      // not a parquet deft can read: not ours, left alone
    }
  }
  return stale;
}

}  // namespace

std::string pass_file_name(const std::string& subset, const Pass& pass) {
  return fmt::format("{}_iteration_{}_topn_{}.parquet", subset, pass.number, pass.topn);
}

PassFiles all_pass_files(const SelectReport& report) {
  PassFiles files;
  for (const SubsetSummary& s : report.subsets)
    for (const Pass& p : s.result.passes)
      files.emplace_back(pass_file_name(s.name, p), &p);
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return files;
}

PassFiles class_pass_files(const SelectReport& report, const std::string& name) {
  PassFiles own, fallback;
  for (const auto& file : all_pass_files(report)) {
    if (file.first.rfind(name + "_iteration_", 0) == 0) own.push_back(file);
    if (name != "non_rare" && file.first.rfind(name + "_fallback_iteration_", 0) == 0)
      fallback.push_back(file);
  }
  own.insert(own.end(), fallback.begin(), fallback.end());
  return own;
}

std::vector<const SatisfiedTarget*> first_claims(const PassFiles& files,
                                                 const std::vector<std::string>& target_paths) {
  std::vector<const SatisfiedTarget*> claims;
  std::unordered_set<std::string> seen;
  for (const auto& [file, pass] : files) {
    for (const SatisfiedTarget& t : pass->satisfied) {
      if (seen.insert(target_paths[t.target]).second) claims.push_back(&t);
    }
  }
  return claims;
}

namespace {

Json dataset_json(const DatasetStats& d) {
  Json per_class = Json::object();
  for (const auto& [name, c] : d.per_class)
    per_class[name] = {{"image_count", c.images}, {"instance_count", c.instances}};
  return {{"total_images", d.total_images},
          {"rare_images", d.rare_images},
          {"common_images", d.common_images},
          {"rare_instances", d.rare_instances},
          {"per_class", per_class}};
}

Json stats_json(const DistanceStats& d) {
  return {{"count", d.count},   {"min", d.min}, {"max", d.max}, {"mean", d.mean},
          {"median", d.median}, {"std", d.std}, {"p25", d.p25}, {"p75", d.p75}};
}

// Each target's top-1 distance, the first time it appears in `files`.
std::vector<double> first_top1(const PassFiles& files, const SelectResults& results) {
  std::vector<double> distances;
  for (const SatisfiedTarget* t : first_claims(files, results.target_paths))
    distances.push_back(t->picks.front().distance);
  return distances;
}

// distance_stats: per rare class (its own pass files in name order, then its fallback's) and
// non_rare, by name, then `overall` over every pass file of this run (the reference globs the
// folder, stale files included; deft counts only this run's).
Json distance_stats_json(const SelectJob& job, const SelectReport& report,
                         const SelectResults& results) {
  std::vector<std::string> names = job.rare_classes;
  names.push_back("non_rare");
  std::sort(names.begin(), names.end());
  Json per_class = Json::object();
  for (const std::string& name : names) {
    if (const auto stats = distance_stats(first_top1(class_pass_files(report, name), results)))
      per_class[name] = stats_json(*stats);
  }
  if (const auto overall = distance_stats(first_top1(all_pass_files(report), results)))
    per_class["overall"] = stats_json(*overall);
  return {{"metric", index::metric_name(job.metric)},
          {"based_on", "top1_distance"},
          {"per_class", per_class}};
}

}  // namespace

std::string summary_json(const SelectJob& job, const SelectReport& report,
                         const SelectResults& results) {
  Json j;
  j["allocation_policy"] = allocation_name(job.allocation);
  j["desired_unique_count"] = job.desired;
  j["retrieved_unique_count"] = report.retrieved;
  j["coverage_pct"] =
      round2(static_cast<double>(report.retrieved) / static_cast<double>(job.desired) * 100.0);
  if (job.allocation == Allocation::kGlobal) {
    j["target_queries"] = report.target_queries;
    j["rare_classes"] = job.rare_classes;
    if (report.target_dataset) j["target_dataset"] = dataset_json(*report.target_dataset);
    if (report.resultant_dataset) j["resultant_dataset"] = dataset_json(*report.resultant_dataset);
  } else {
    j["rare_classes"] = job.rare_classes;
    j["target_queries"] = {{"rare", report.rare_target_queries},
                           {"non_rare", report.non_rare_target_queries}};
    Json per_class = Json::object();
    Json non_rare;
    size_t total = 0;
    for (const GroupAllocation& g : report.allocation) {
      const Json entry = {{"target_count", g.targets},
                          {"ratio_pct", round2(g.ratio * 100.0)},
                          {"desired_count", g.desired}};
      (g.name == "non_rare" ? non_rare : per_class[g.name]) = entry;
      total += g.desired;
    }
    j["allocation"] = {{"per_class", per_class}, {"non_rare", non_rare}, {"total_desired", total}};
    if (report.target_dataset) j["target_dataset"] = dataset_json(*report.target_dataset);
    if (report.resultant_dataset) j["resultant_dataset"] = dataset_json(*report.resultant_dataset);
    j["distance_stats"] = distance_stats_json(job, report, results);
  }
  // deft's own keys, after the reference's.
  Json subsets = Json::array();
  size_t unsatisfied = 0;
  Json by_reason = Json::object();
  for (const SubsetSummary& s : report.subsets) {
    Json passes = Json::array();
    for (const Pass& p : s.result.passes) {
      passes.push_back({{"pass", p.number},
                        {"k", p.k},
                        {"targets_searched", p.targets_searched},
                        {"targets_satisfied", p.satisfied.size()},
                        {"merged", p.merged}});
    }
    const char* reason = stop_reason_name(s.result.stop);
    subsets.push_back({{"subset", s.name},
                       {"targets", s.targets},
                       {"pool_rows", s.pool_rows},
                       {"desired", s.desired},
                       {"retrieved", s.result.retrieved.size()},
                       {"topn", s.result.topn},
                       {"passes", passes},
                       {"stopped_because", reason},
                       {"unsatisfied_targets", s.result.unsatisfied.size()}});
    unsatisfied += s.result.unsatisfied.size();
    if (!s.result.unsatisfied.empty()) {
      by_reason[reason] = by_reason.value(reason, size_t{0}) + s.result.unsatisfied.size();
    }
  }
  j["unsatisfied_targets"] = {{"count", unsatisfied}, {"by_reason", by_reason}};
  j["pool"] = {{"rows", report.pool_rows},
               {"files", report.pool_files},
               {"excluded_rows", report.excluded_rows}};
  j["distance_metric"] = index::metric_name(job.metric);
  j["encoder_check"] = report.encoder_check;
  j["warnings"] = report.warnings;
  j["subsets"] = subsets;
  if (report.coverage.checked) {
    Json labels = Json::object();
    for (const mine::LabelCount& l : report.coverage.labels) {
      labels[l.label] = {{"targets", l.targets},
                         {"pool_rows", l.pool_rows},
                         {"scarcity", std::round(l.scarcity * 1e4) / 1e4}};
    }
    j["coverage"] = {{"topn", report.coverage.topn},
                     {"labels", labels},
                     {"labels_without_pool_rows", report.coverage.absent},
                     {"scarce_labels", report.coverage.scarce}};
  }
  if (report.history) {
    const history::RoundOutcome& h = *report.history;
    const history::Forecast& f = h.forecast;
    Json yields = Json::array();
    for (const auto& [round, yield] : f.yields)
      yields.push_back({{"round", round}, {"yield", yield}});
    Json per_label = Json::object();
    for (const history::LabelForecast& l : f.per_label) {
      per_label[l.label] = {
          {"yield", l.yield}, {"unmined", l.unmined}, {"rounds_left", l.rounds_left}};
    }
    j["history"] = {{"folder", h.folder.string()},
                    {"round", h.round},
                    {"group_column", h.group_column},
                    {"exclude_history", h.exclusion},
                    {"excluded_by_history", h.excluded_rows},
                    {"candidates", f.candidates},
                    {"candidates_already_mined", f.candidates_already_mined},
                    {"already_mined_share", std::round(f.already_mined_share * 1e4) / 1e4},
                    {"yield_per_round", yields},
                    {"rounds_left_forecast", f.rounds_left},
                    {"forecast", f.words()},
                    {"rounds_left_per_label", per_label},
                    {"max_pool_fraction", h.max_pool_fraction},
                    {"desired_after_cap", report.desired_after_cap},
                    {"warnings", h.warnings},
                    {"actions", h.actions},
                    {"repairs", h.repaired}};
  }
  return j.dump(2, ' ', true);
}

void write_select_outputs(table::Database& db, const SelectJob& job, const SelectResults& results,
                          const SelectReport& report) {
  OutputSet outputs;  // output_dir exists: run_select_job made it
  const table::WriterOptions options{.kv_metadata = {{kSelectKey, job.spec}},
                                     .output_set = &outputs};
  std::vector<fs::path> written;
  for (const SubsetSummary& s : report.subsets) {
    for (const Pass& p : s.result.passes) {
      const fs::path file = job.output_dir / pass_file_name(s.name, p);
      table::write_value_columns(db, file, pass_columns(p, results), options);
      written.push_back(file);
    }
  }
  for (const fs::path& old : stale_pass_files(db, job.output_dir)) {
    if (std::find(written.begin(), written.end(), old) == written.end())
      outputs.remove_on_commit(old);
  }
  // final_unique_files.parquet: the retrieved files, sorted (file ids are in path order).
  std::vector<uint32_t> all;
  for (const SubsetSummary& s : report.subsets)
    all.insert(all.end(), s.result.retrieved.begin(), s.result.retrieved.end());
  std::sort(all.begin(), all.end());
  ValueColumn final_list = ValueColumn::of(job.source_filepath_column, ValueColumn::Kind::kText);
  for (uint32_t f : all)
    final_list.text.emplace_back(results.files.path(f));
  table::write_value_columns(db, job.output_dir / "final_unique_files.parquet", {final_list},
                             options);
  table::write_value_columns(db, job.output_dir / "selection_provenance.parquet",
                             provenance_columns(job, report, results), options);
  if (job.visualize) write_visualizations(job, report, results, outputs);
  write_file_atomically(job.output_dir / "summary.json", summary_json(job, report, results),
                        &outputs);
  outputs.commit();
}

}  // namespace deft::select
