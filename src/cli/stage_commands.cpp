// embed, mine and run: config and input checks; the stages themselves are not built yet.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/pending_stages.h"
#include "common/log.h"
#include "table/table_reader.h"

namespace deft::cli {

void stage_not_built(std::string_view command, std::string_view stage, std::string_view checked) {
  throw Error(ErrorKind::kRun,
              fmt::format("`deft {}` cannot run yet: the {} is not built in this version ({})",
                          command, stage, checked),
              "`--cfg=job` shows the resolved config; the README lists what this version does");
}

namespace {

std::string table_summary(table::TableReader& reader) {
  return fmt::format("'{}': {} rows{}", reader.path().string(), reader.count_rows(),
                     reader.label_column() ? ", labelled" : "");
}

}  // namespace

int run_embed(const Config& config, Context&) {
  table::Database db;
  table::TableReader input(db, config.get_string("input_parquet"));
  stage_not_built("embed", "encoder stage", "input checked: " + table_summary(input));
}

int run_mine(const Config& config, Context&) {
  table::Database db;
  table::TableReader source(
      db, config.get_string("source_parquet"),
      {.columns = {table::kFilepathColumn, config.get_string("source_embed_column_name")}});
  table::TableReader target(
      db, config.get_string("target_parquet"),
      {.columns = {table::kFilepathColumn, config.get_string("target_embed_column_name")}});
  stage_not_built("mine", "mining stage",
                  "inputs checked: " + table_summary(source) + "; " + table_summary(target));
}

int run_workflow(const Config& config, Context&) {
  table::Database db;
  table::TableReader targets(db, config.get_string("target_parquet"));
  table::TableReader pool(db, config.get_string("source_parquet"));
  stage_not_built("run", "encoder stage",
                  "inputs checked: " + table_summary(targets) + "; " + table_summary(pool));
}

}  // namespace deft::cli
