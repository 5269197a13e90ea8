#pragma once
// The deft command line, callable in-process: parse, resolve the config, run, and map errors
// to exit codes (0 ok, 1 the run failed, 2 usage or config error).
//
//   std::vector<std::string> args = {"embed", "--cfg=job", "input_parquet=a.parquet"};
//   int code = deft::cli::run_deft(args, std::cout, std::cerr);

#include <ostream>
#include <span>
#include <string>

#include "cli/config.h"
#include "embed/embed_job.h"
#include "embed/text_embed_job.h"
#include "mine/mine_job.h"
#include "select/select_job.h"

namespace deft::cli {

struct Context {
  std::ostream& out;  // results and --cfg=job
  bool quiet = false;
};

int run_deft(std::span<const std::string> args, std::ostream& out, std::ostream& err);

// The config a command line resolves to, exactly as the command would see it (not run).
Config resolve_command_line(std::span<const std::string> args);

// A step's job from its resolved config (stage_commands.cpp), for `deft run` too.
embed::EmbedJob embed_job_from(const Config& config);
// `deft embed-text`'s job from its keys; `deft run` passes its embedding spec (the text job's
// keys are among the image job's) with input_parquet and output_parquet set.
embed::TextEmbedJob text_embed_job_from(const Config& config);
mine::MineJob mine_job_from(const Config& config);
select::SelectJob select_job_from(const Config& config);

// The commands' bodies (one file each).
int run_embed(const Config& config, Context& context);
int run_embed_text(const Config& config, Context& context);
int run_mine(const Config& config, Context& context);
int run_select(const Config& config, Context& context);
int run_workflow(const Config& config, Context& context);
int run_demo(const Config& config, Context& context);

}  // namespace deft::cli
