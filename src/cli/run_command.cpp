// deft run: embed the targets, embed the pool, mine, report, in one dated folder.
#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/dead_run_debris.h"
#include "common/error.h"
#include "common/log.h"
#include "common/output_lock.h"
#include "embed/text_embed_job.h"
#include "history/mining_history.h"
#include "mine/label_check.h"
#include "mine/label_coverage.h"
#include "model/fingerprint.h"
#include "parallel/cluster.h"
#include "report/run_reports.h"
#include "select/settings.h"
#include "table/duckdb_handles.h"
#include "table/parquet_writer.h"
#include "table/recorded_encoder.h"
#include "table/table_reader.h"

namespace deft::cli {
namespace {

namespace fs = std::filesystem;

std::string local_time(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char text[64];
  std::strftime(text, sizeof text, format, &tm);
  return text;
}

// What makes two `deft run` invocations the same run: the tables, the output folder, the pool
// embeddings given, and the two step specs as resolved, less the settings that do not change
// the results (batch_size and threads: `deft embed` decides whether finished chunks still
// hold for them). Recorded in the run folder's run_manifest.json.
std::string run_identity(const Config& config, const Config& embedding, const Config& mining) {
  const auto without_speed_keys = [](const std::string& yaml) {
    std::string out;
    size_t start = 0;
    while (start < yaml.size()) {
      const size_t end = std::min(yaml.find('\n', start), yaml.size());
      const std::string_view line(yaml.data() + start, end - start);
      if (!line.starts_with("batch_size:") && !line.starts_with("threads:")) {
        out.append(line);
        out += '\n';
      }
      start = end + 1;
    }
    return out;
  };
  const auto absolute = [&](const char* key) {
    const std::string value = config.get_string(key);
    return value.empty() ? value : fs::absolute(value).lexically_normal().string();
  };
  const nlohmann::ordered_json identity = {
      {"target_parquet", absolute("target_parquet")},
      {"source_parquet", absolute("source_parquet")},
      {"output_dir", absolute("output_dir")},
      {"source_embeddings", absolute("source_embeddings")},
      {"embedding_spec", without_speed_keys(embedding.to_yaml())},
      {"mining_spec", without_speed_keys(mining.to_yaml())},
  };
  return identity.dump();
}

constexpr const char* kRunManifest = "run_manifest.json";

void write_run_manifest(const fs::path& dir, const std::string& identity, const char* state) {
  nlohmann::ordered_json manifest = {{"state", state}, {"run", nlohmann::json::parse(identity)}};
  write_file_atomically(dir / kRunManifest, manifest.dump(2) + "\n");
}

// <output_dir>/mining_results, where every run's folder goes.
fs::path results_base(const Config& config) {
  return fs::path(config.get_string("output_dir")) / "mining_results";
}

// The run folders under `base`, newest first (their names are dated); none when it is absent.
std::vector<fs::path> run_folders_newest_first(const fs::path& base) {
  std::error_code ec;
  std::vector<fs::path> runs;
  if (!fs::is_directory(base, ec)) return runs;
  for (const auto& entry : fs::directory_iterator(base, ec)) {
    // Hidden: a folder still being made (make_run_dir's staging), or not deft's.
    if (entry.is_directory() && entry.path().filename().string()[0] != '.')
      runs.push_back(entry.path());
  }
  // Dated names sort as text, but a second folder of the same second is "<stamp>-<n>": by
  // stamp, then n as a number ("-10" after "-9").
  const auto key = [](const fs::path& run) {
    const std::string name = run.filename().string();
    constexpr size_t kStamp = std::string_view("2026-12-01_120000").size();
    long n = 1;
    if (name.size() > kStamp + 1 && name[kStamp] == '-')
      n = std::strtol(name.c_str() + kStamp + 1, nullptr, 10);
    return std::make_pair(name.substr(0, kStamp), n);
  };
  std::sort(runs.begin(), runs.end(),
            [&](const fs::path& a, const fs::path& b) { return key(a) > key(b); });
  return runs;
}

// The newest run folder under <output_dir>/mining_results made by the same run (identity),
// and whether it finished; empty when there is none.
std::pair<fs::path, bool> newest_same_run(const fs::path& base, const std::string& identity) {
  const std::string wanted = nlohmann::json::parse(identity).dump();
  for (const fs::path& run : run_folders_newest_first(base)) {
    try {
      std::ifstream in(run / kRunManifest);
      if (!in) continue;
      const nlohmann::json manifest = nlohmann::json::parse(in);
      if (manifest.at("run").dump() != wanted) continue;
      return {run, manifest.at("state") == "complete"};
    } catch (const std::exception&) {  // not a manifest deft wrote: not this run's
    }
  }
  return {};
}

// <output_dir>/mining_results/YYYY-MM-DD_HHMMSS, or run_dir; the newest folder of the same run
// when it did not finish (a kill, a full disk), unless fresh=true. A second run in the same
// second gets a suffix rather than mixing its files into the first one's folder.
// Creates `dir` (and its parents), or says which folder could not be made and why.
void create_folder(const fs::path& dir, const char* what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw Error(ErrorKind::kRun,
                fmt::format("cannot create the {} '{}': {}", what,
                            fs::absolute(dir).lexically_normal().string(), ec.message()),
                "make the output folder writable, or choose another output_dir");
  }
}

fs::path make_run_dir(const Config& config, const std::string& identity) {
  const std::string custom = config.get_string("run_dir");
  if (!custom.empty()) {
    create_folder(custom, "run folder");
    return custom;
  }
  const fs::path base = results_base(config);
  create_folder(base, "results folder");
  remove_dead_run_debris(base);  // staging folders of killed runs
  if (!config.get_bool("fresh")) {
    const auto [unfinished, complete] = newest_same_run(base, identity);
    if (!unfinished.empty() && !complete) {
      log::info(
          "deft run: continuing the unfinished run in '{}' (same tables and specs); fresh=true "
          "starts a new folder",
          unfinished.string());
      return unfinished;
    }
  }
  // The folder appears with its manifest in it or not at all: it is made hidden (a name
  // remove_dead_run_debris knows), then renamed into place. A kill in between leaves no empty
  // run folder that the next run would neither continue nor clean.
  const fs::path staging = prepare_output(base / "run");
  create_folder(staging, "run folder");
  write_run_manifest(staging, identity, "running");
  const std::string stamp = local_time("%Y-%m-%d_%H%M%S");
  for (int n = 1;; ++n) {
    const fs::path dir = base / (n == 1 ? stamp : fmt::format("{}-{}", stamp, n));
    std::error_code ec;
    if (fs::exists(dir, ec)) continue;
    fs::rename(staging, dir, ec);  // fails when another run took the name meanwhile
    if (!ec) return dir;
    if (n > 1000) {
      throw Error(ErrorKind::kRun, fmt::format("cannot create a run folder in '{}': {}",
                                               fs::absolute(base).string(), ec.message()));
    }
  }
}

// The newest earlier run under <output_dir>/mining_results whose pool embeddings were made
// from the same source table by the same encoder as `ours`: its rows can be reused.
fs::path earlier_pool_embeddings(const Config& config, const fs::path& this_run,
                                 const model::EncoderFingerprint& ours) {
  const std::string source = fs::absolute(config.get_string("source_parquet")).string();
  std::error_code ec;
  for (const fs::path& run : run_folders_newest_first(results_base(config))) {
    if (run == this_run) continue;
    const fs::path candidate = run / "source_embeddings.parquet";
    if (!fs::is_regular_file(candidate, ec)) continue;
    try {
      table::Database db;
      const auto metadata = table::read_kv_metadata(db, candidate);
      const auto input = metadata.find("deft.input");
      const auto theirs = model::fingerprint_in(metadata, candidate.string());
      if (input != metadata.end() && input->second == source && theirs &&
          model::same_encoder(ours, *theirs)) {
        return candidate;
      }
    } catch (const Error&) {  // an unreadable leftover: not a candidate
    }
  }
  return {};
}

// The run's round, recorded in its history now that the run is complete. A failure here leaves
// the history as it was: the same command then runs (and records) the round again.
void record_history_round(report::RunFacts& facts, const fs::path& dir) {
  const std::shared_ptr<history::PendingRound> pending = facts.mined ? facts.mined->pending_history
                                                         : facts.selected
                                                             ? facts.selected->pending_history
                                                             : nullptr;
  if (!pending) return;
  try {
    table::Database db;
    pending->commit(db);
  } catch (const Error& e) {
    throw Error(ErrorKind::kRun,
                fmt::format("the run in '{}' is complete, but its round could not be recorded in "
                            "the history: {}",
                            dir.string(), e.what()),
                "run the same command again: it runs and records the round anew");
  }
}

// Before any image is decoded: the coverage per label of the two tables (a target label
// without pool rows is an error under strict), and the history's manifest (a modified or
// missing artifact stops the run here, not after the embedding).
void check_coverage_and_history(report::RunFacts& facts, bool selecting) {
  const history::HistorySettings& h = selecting ? facts.selection.history : facts.mining.history;
  table::Database db;
  if (h.active() && !h.repair) {
    history::verify_history_folder(db, h.folder, facts.pool.table, table::kFilepathColumn,
                                   h.group_column);
  }
  if (facts.text_targets) return;
  size_t topn = facts.mining.topn;
  if (selecting) {
    const uint64_t targets =
        table::TableReader(db, facts.targets.table, {.columns = {table::kFilepathColumn}})
            .count_rows();
    topn = targets == 0 ? 1 : (facts.selection.desired + targets - 1) / targets;
  }
  facts.coverage = mine::label_coverage(
      db, {.targets = facts.targets.table,
           .pool = facts.pool.table,
           .topn = topn,
           .compare = selecting ? mine::LabelCompare::kReference : facts.mining.label_compare});
  mine::report_coverage(facts.coverage, selecting ? facts.selection.strict : facts.mining.strict);
}

}  // namespace

int run_workflow(const Config& config, Context& context) {
  const std::string target_text = config.get_string("target_text");
  if (!target_text.empty() && !config.get_string("target_parquet").empty()) {
    throw Error(ErrorKind::kUsage,
                "target_parquet and target_text both name the targets: give one (images or texts)");
  }
  // Under mpirun, rank 0 names the folder (its clock decides the date) and the ranks share it;
  // embedding and mining split their work across the ranks; rank 0 alone writes the rest.
  const parallel::Cluster& cluster = parallel::Cluster::get();
  const bool selecting = config.get_string("mode") == kUniqueNeighborMatching;
  // The two step specs, as resolved: passed back to `deft embed` / `deft mine` (or `deft
  // select`) with the file keys, they reproduce this run.
  Config embedding = config.section(embedding_options(), "embedding.");
  Config mining = config.section(selecting ? selection_options() : mining_options(), "mining.");
  if (const int64_t threads = config.get_int("threads"); threads > 0) {
    for (Config* step : {&embedding, &mining}) {
      if (step->get_int("threads") == 0) {
        step->set("threads", RawValue::plain(std::to_string(threads)), "deft run threads");
      }
    }
  }
  const std::string identity = run_identity(config, embedding, mining);
  const fs::path dir =
      cluster.broadcast(cluster.root() ? make_run_dir(config, identity).string() : std::string());
  // One `deft run` per folder: a second one continuing the same unfinished run stops here.
  std::optional<OutputLock> lock;
  if (cluster.root()) lock.emplace(dir / kRunManifest);
  report::RunFacts facts;
  facts.mode = selecting ? report::RunMode::kUniqueMatching : report::RunMode::kNearestNeighbors;
  facts.run_dir = dir;
  facts.started = local_time("%Y-%m-%d %H:%M:%S");
  if (cluster.root()) {
    write_run_manifest(dir, identity, "running");
    write_file_atomically(dir / "embedding_spec.yaml", embedding.to_yaml());
    write_file_atomically(dir / "mining_spec.yaml", mining.to_yaml());
  }

  facts.text_targets = !target_text.empty();
  facts.targets.table = facts.text_targets ? target_text : config.get_string("target_parquet");
  facts.targets.embeddings = dir / "target_embeddings.parquet";
  facts.pool.table = config.get_string("source_parquet");
  facts.pool.embeddings = dir / "source_embeddings.parquet";
  const auto with_files = [&](std::initializer_list<std::pair<const char*, fs::path>> files) {
    Config m = mining;
    for (const auto& [key, path] : files)
      m.set(key, RawValue::plain(path.string()), "deft run");
    return m;
  };
  if (selecting) {
    facts.selection = select_job_from(with_files({{"source_path", facts.pool.embeddings},
                                                  {"target_path", facts.targets.embeddings},
                                                  {"output_dir", dir}}));
    if (facts.text_targets) facts.selection.target_filepath_column = "text";
  } else {
    facts.mining = mine_job_from(with_files({{"source_parquet", facts.pool.embeddings},
                                             {"target_parquet", facts.targets.embeddings},
                                             {"output_parquet", dir / "mined.parquet"}}));
  }
  facts.mining.history.command = "run";
  facts.selection.history.command = "run";
  // The round is recorded once the run is complete (below): a run continued after a failure
  // then never records its round twice.
  facts.mining.defer_history = true;
  facts.selection.defer_history = true;
  // The embedding spec with a side's files: what `deft embed` (or `embed-text`) would be given.
  const auto step_for = [&](const report::Side& side) {
    Config step = embedding;
    step.set("input_parquet", RawValue::plain(side.table.string()), "deft run");
    step.set("output_parquet", RawValue::plain(side.embeddings.string()), "deft run");
    return step;
  };
  const auto embed_side = [&](report::Side& side, const std::string& reuse_from) {
    Config step = step_for(side);
    if (!reuse_from.empty()) step.set("reuse_from", RawValue::plain(reuse_from), "deft run");
    log::info("deft run: embedding '{}'", side.table.string());
    side.embed = embed::run_embed_job(embed_job_from(step));
  };
  const auto count_rows = [](const fs::path& parquet) {
    table::Database db;
    table::TableReader reader(db, parquet);
    return reader.count_rows();
  };

  // Texts as the targets: the model's text tower, with the embedding spec's model and compute.
  const auto embed_texts = [&](report::Side& side) {
    log::info("deft run: embedding the texts of '{}'", side.table.string());
    const embed::TextEmbedReport r = embed::run_text_embed_job(text_embed_job_from(step_for(side)));
    side.embed = embed::EmbedReport{.rows_in = r.rows,
                                    .embedded = r.embedded,
                                    .resumed_chunks = r.resumed_chunks,
                                    .seconds = r.seconds,
                                    .encoder = r.encoder};
  };

  try {
    // What would make the label filter useless, or the selection impossible, is said before
    // any image is decoded.
    if (selecting) {
      select::check_before_tables(facts.selection);
    } else if (!facts.text_targets) {
      mine::check_labels_before_embedding(facts.targets.table, facts.pool.table, facts.mining);
    }
    check_coverage_and_history(facts, selecting);
    if (facts.text_targets) {
      embed_texts(facts.targets);
    } else {
      embed_side(facts.targets, "");
    }
    // A pool embedded earlier: reused row by row when it comes from the same encoder; from
    // another encoder, it is mined as it is, and mining refuses it (the report says why).
    std::string earlier = config.get_string("source_embeddings");
    const auto encoder_of = [](const fs::path& table) {
      table::Database db;
      return table::recorded_encoder(db, table);
    };
    const auto ours = encoder_of(facts.targets.embeddings);
    // An earlier pool is found by the targets' encoder: not for text targets (another tower).
    if (earlier.empty() && ours && !facts.text_targets) {
      earlier = earlier_pool_embeddings(config, dir, *ours).string();
      if (!earlier.empty()) log::info("deft run: reusing the pool's rows from '{}'", earlier);
    }
    const auto theirs = earlier.empty() ? std::nullopt : encoder_of(earlier);
    const auto comparable = [&] {
      return ours && theirs &&
             (model::same_encoder(*ours, *theirs) ||
              model::same_checkpoint_other_tower(*ours, *theirs));
    };
    if (!earlier.empty() && !comparable()) {
      // Mining refuses two fingerprints that differ (the report's FAIL), and compares vectors
      // without a fingerprint as they are, with a warning.
      const bool allowed =
          selecting ? facts.selection.allow_encoder_mismatch : facts.mining.allow_encoder_mismatch;
      facts.encoder_mismatch = ours && theirs && !allowed;
      facts.pool.embeddings = earlier;
      facts.mining.source = earlier;
      facts.selection.source = earlier;
      log::warn("'{}' was not embedded by this run's encoder: it is mined as it is", earlier);
    } else {
      embed_side(facts.pool, earlier);
    }
    if (selecting) {
      log::info("deft run: selecting {} unique files", facts.selection.desired);
      facts.selected = select::run_select_job(facts.selection);
      if (!cluster.root()) return kExitOk;  // rank 0 writes the outputs and the reports
      facts.mined_rows = count_rows(dir / "final_unique_files.parquet");
    } else {
      log::info("deft run: mining");
      facts.mined = mine::run_mine_job(facts.mining);
      if (!cluster.root()) return kExitOk;
      facts.mined_rows = count_rows(dir / "mined.parquet");
    }
  } catch (const Error& e) {
    facts.failure = e.what();
    if (!cluster.root()) throw;
    write_run_manifest(dir, identity, "failed");
    const report::Verdict verdict = report::write_run_reports(facts);
    log::warn("{}; the report is in '{}'", verdict.line, (dir / "Mining_Report.md").string());
    throw;
  }
  const report::Verdict verdict = report::write_run_reports(facts);
  write_run_manifest(dir, identity, "complete");
  record_history_round(facts, dir);
  const std::string outcome = selecting
                                  ? fmt::format("selected {} of {} unique images",
                                                facts.selected->retrieved, facts.selection.desired)
                                  : fmt::format("mined    {} images", facts.mined->unique_mined);
  context.out << fmt::format("{}\nresults  {}\nreport   {}\nvisual   {}\n{}\n", verdict.line,
                             dir.string(), (dir / "Mining_Report.md").string(),
                             (dir / "report.html").string(), outcome);
  return kExitOk;
}

}  // namespace deft::cli
