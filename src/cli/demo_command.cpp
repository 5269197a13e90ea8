// deft demo: a generated example, run through the whole workflow with the thumbnail encoder.
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/option_table.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/log.h"
#include "demo/synthetic_set.h"
#include "mine/mine_job.h"

namespace deft::cli {
namespace {

namespace fs = std::filesystem;

std::string embedding_spec(const std::string& model, const std::string& model_path) {
  return fmt::format(
      "# Embedding spec of the deft demo (the same keys as TAO's image_embeddings spec).\n"
      "model: {}\n"
      "model_path: '{}'\n"
      "batch_size: 64\n",
      model, model_path);
}

constexpr const char* kMiningSpec =
    "# Mining spec of the deft demo (the same keys as TAO's nearest_neighbors spec).\n"
    "topn: 5\n"
    "knn_metric: cosine\n"
    "filter_by_label: \"true\"\n"
    "distance_threshold: -1.0\n";

}  // namespace

int run_demo(const Config& config, Context& context) {
  const fs::path dir = config.get_string("output_dir");
  const fs::path data = dir / "data";
  log::info("deft demo: generating an example in {}", dir.string());
  const demo::SyntheticSet set = demo::write_synthetic_set(data, config.get_int("seed"));
  const std::string model = config.get_string("model");
  write_file_atomically(dir / "embedding_spec.yaml",
                        embedding_spec(model, config.get_string("model_path")));
  write_file_atomically(dir / "mining_spec.yaml", kMiningSpec);

  // `deft run` on the example, from the very arguments a user would type.
  const std::vector<std::string> run_args = {
      "run",
      "-e",
      (dir / "embedding_spec.yaml").string(),
      "-m",
      (dir / "mining_spec.yaml").string(),
      "target_parquet=" + set.targets.string(),
      "source_parquet=" + set.pool.string(),
      "output_dir=" + dir.string(),
      "run_dir=" + (dir / "run").string(),
      "threads=" + std::to_string(config.get_int("threads"))};
  const Config run = resolve_command_line(run_args);
  run.require_complete();
  write_file_atomically(dir / "run_config.yaml", run.to_yaml());
  std::ostringstream run_out;
  Context run_context{run_out, context.quiet};
  run_workflow(run, run_context);

  const double recall =
      demo::planted_recall(set, mine::pairs_path_for(dir / "run" / "mined.parquet"));
  context.out << fmt::format(
      "{}"
      "example  {} targets ({}), {} pool images with 3 planted copies of each target\n"
      "recall   {:.3f} of the planted copies are among their target's 5 nearest ({} "
      "encoder)\n"
      "again    deft run -e {} -m {} target_parquet={} source_parquet={} output_dir={}\n",
      run_out.str(), set.targets_count, set.targets.string(), set.pool_count, recall, model,
      (dir / "embedding_spec.yaml").string(), (dir / "mining_spec.yaml").string(),
      set.targets.string(), set.pool.string(), dir.string());
  return kExitOk;
}

}  // namespace deft::cli
