// The spec/command-line contract of specs/workflow.md, run in-process.
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/commands.h"
#include "cli/config.h"
#include "cli/option_table.h"
#include "test_support.h"

namespace deft {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScratchDir;
using testing::write_text_file;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome deft_cli(std::vector<std::string> args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = cli::run_deft(args, out, err);
  return {code, out.str(), err.str()};
}

// The reference's embedding keys with the defaults of specs/workflow.md, written out by hand.
constexpr const char* kEmbeddingReferenceKeys =
    "input_parquet: a.parquet\n"
    "output_parquet: ???\n"
    "model: SigLIP\n"
    "model_path: google/siglip-base-patch16-224\n"
    "model_config_path: ''\n"
    "batch_size: 64\n";

// The embedding keys that are deft's own, with their defaults, written out by hand.
constexpr const char* kEmbeddingExtensions =
    "image_root: null\nthreads: 0\nprecision: auto\nstrict: false\noverwrite: false\n"
    "reuse: true\nreuse_from: null\nreuse_key: stat\nexif_orientation: ignore\n"
    "shrink_on_load: true\nmax_image_pixels: 178956970\ndecode_timeout: 60.0\nchunk_rows: 4096\n"
    "max_failure_rate: 0.5\n";

// `--cfg=job` of the TAO forms marks each of deft's own keys.
std::string marked(const std::string& yaml) {
  std::string out;
  size_t start = 0;
  while (start < yaml.size()) {
    const size_t end = yaml.find('\n', start);
    out += yaml.substr(start, end - start) + "  # deft only\n";
    start = end + 1;
  }
  return out;
}

std::string indented(const std::string& yaml) {
  std::string out;
  size_t start = 0;
  while (start < yaml.size()) {
    const size_t end = yaml.find('\n', start);
    out += "  " + yaml.substr(start, end + 1 - start);
    start = end + 1;
  }
  return out;
}

constexpr const char* kMiningDefaults =
    "source_parquet: ???\n"
    "target_parquet: ???\n"
    "output_parquet: ???\n"
    "topn: 5\n"
    "knn_metric: cosine\n"
    "filter_by_label: \"false\"\n"
    "distance_threshold: -1.0\n"
    "source_embed_column_name: embedding\n"
    "target_embed_column_name: embedding\n";
// deft's own mining keys, after the reference's.
constexpr const char* kMiningExtensions =
    "label_mode: after\nlabel_compare: reference\nprovenance: true\nallow_encoder_mismatch: "
    "false\nstrict: false\n"
    "index: exact\nindex_params: ''\nmemory_budget_mb: 1024.0\nabsolute_paths: false\n"
    "threads: 0\nhistory: null\ngroup_column: ''\nexclude_history: true\nhistory_repair: "
    "false\nmax_pool_fraction: 1.0\n";

TEST(CliConfig, CfgJobPrintsTheResolvedEmbeddingSpecWithWorkflowDefaults) {
  ScratchDir dir;
  write_text_file(dir / "spec.yaml", "# an empty spec: every default applies\n");
  const Outcome r = deft_cli({"embedding", "image_embeddings", "-e", (dir / "spec.yaml").string(),
                              "--cfg=job", "input_parquet=a.parquet"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, kEmbeddingReferenceKeys + marked(kEmbeddingExtensions));
  EXPECT_EQ(r.err, "");
}

TEST(CliConfig, CfgJobPrintsTheMiningDefaults) {
  // The TAO form: the reference's keys, then deft's marked; the reference's one-column output.
  Outcome r = deft_cli({"tmm", "nearest_neighbors", "--cfg", "job"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::string extensions = kMiningExtensions;
  extensions.replace(extensions.find("provenance: true"), 16, "provenance: false");
  EXPECT_EQ(r.out, kMiningDefaults + marked(extensions));
  // deft's own form: unmarked, with provenance columns.
  r = deft_cli({"mine", "--cfg", "job"});
  EXPECT_EQ(r.out, std::string(kMiningDefaults) + kMiningExtensions);
}

TEST(CliConfig, TheReferenceSpecFilesAreAccepted) {
  ScratchDir dir;
  // TAO's own default specs, verbatim (mining/*/experiment_specs/*.yaml).
  write_text_file(dir / "image_embeddings.yaml",
                  "input_parquet: ???\noutput_parquet: ???\nmodel: ???\nmodel_path: ???\n"
                  "model_config_path: \"\"\nbatch_size: 64\n" +
                      std::string(kEmbeddingExtensions));
  write_text_file(dir / "nearest_neighbors.yaml",
                  "source_parquet: ???\ntarget_parquet: ???\noutput_parquet: ???\ntopn: 5\n"
                  "knn_metric: euclidean\nsource_embed_column_name: embedding\n"
                  "target_embed_column_name: embedding\nfilter_by_label: \"false\"\n");
  Outcome r =
      deft_cli({"embedding", "image_embeddings", "-e", (dir / "image_embeddings.yaml").string(),
                "--cfg=job", "model=clip", "model_path=openai/clip-vit-base-patch32"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "input_parquet: ???\noutput_parquet: ???\nmodel: CLIP\n"
            "model_path: openai/clip-vit-base-patch32\nmodel_config_path: ''\nbatch_size: 64\n" +
                marked(kEmbeddingExtensions));
  r = deft_cli({"tmm", "nearest_neighbors", "-e", (dir / "nearest_neighbors.yaml").string(),
                "--cfg=job", "topn=10", "filter_by_label=true"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("topn: 10\n"), HasSubstr("knn_metric: euclidean\n"),
                           HasSubstr("filter_by_label: \"true\"\n")));
}

TEST(CliConfig, MissingRequiredValuesAreAllNamedWithExitCode2) {
  const Outcome r = deft_cli({"tmm", "nearest_neighbors", "topn=3"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("missing required values for `tmm nearest_neighbors`: "
                               "source_parquet, target_parquet, output_parquet"));
  EXPECT_EQ(r.out, "");
}

TEST(CliConfig, UnknownKeyNamesTheClosestValidKey) {
  Outcome r = deft_cli({"mine", "topm=3"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown key 'topm' for `mine`; did you mean 'topn'?"));
  r = deft_cli({"embed", "--batchsize", "8"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("flag --batchsize"), HasSubstr("did you mean 'batch_size'?")));
  r = deft_cli({"embed", "completely_unrelated=1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("unknown key 'completely_unrelated'"),
                           Not(HasSubstr("did you mean"))));
}

TEST(CliConfig, WrongTypeNamesKeyAndExpectedType) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"mine", "topn=abc"}, "'topn' must be an integer, got 'abc'"},
      {{"mine", "topn=2.5"}, "'topn' must be an integer, got '2.5'"},
      {{"mine", "topn=0"}, "'topn' must be an integer >= 1, got '0'"},
      {{"embed", "batch_size=-4"}, "'batch_size' must be an integer >= 1, got '-4'"},
      {{"mine", "distance_threshold=far"}, "'distance_threshold' must be a number, got 'far'"},
      {{"mine", "filter_by_label=maybe"}, "'filter_by_label' must be true or false"},
      {{"mine", "knn_metric=L2"}, "'knn_metric' must be one of cosine, euclidean, manhattan"},
      {{"embed", "model=ResNet"},
       "'model' must be one of SigLIP, SigLIP2, CLIP, DINOv2, thumbnail"},
      {{"embed", "input_parquet="}, "'input_parquet' must be a path, got ''"},
  };
  for (const Case& c : cases) {
    const Outcome r = deft_cli(c.args);
    EXPECT_EQ(r.code, 2) << c.args[1];
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args[1];
  }
}

TEST(CliConfig, FilterByLabelAcceptsTheReferenceStringsAndRealBooleans) {
  ScratchDir dir;
  const std::vector<std::pair<std::string, bool>> spellings = {
      {"\"true\"", true}, {"\"false\"", false}, {"true", true},   {"false", false},
      {"1", true},        {"0", false},         {"'TRUE'", true}, {"\"False\"", false}};
  for (const auto& [yaml, expected] : spellings) {
    write_text_file(dir / "m.yaml", "filter_by_label: " + yaml + "\n");
    cli::Config config(cli::mining_options());
    cli::apply_spec_file(config, dir / "m.yaml");
    EXPECT_EQ(config.get_bool("filter_by_label"), expected) << yaml;
  }
  // The same spellings as overrides.
  for (const auto& [word, expected] :
       std::vector<std::pair<std::string, bool>>{{"filter_by_label=true", true},
                                                 {"filter_by_label='false'", false},
                                                 {"filter_by_label=1", true},
                                                 {"filter_by_label=\"true\"", true}}) {
    cli::Config config(cli::mining_options());
    const auto [key, value] = cli::parse_override(word);
    config.set(key, value, word);
    EXPECT_EQ(config.get_bool("filter_by_label"), expected) << word;
  }
}

TEST(CliConfig, SettingsApplyInOrderOverTheSpec) {
  ScratchDir dir;
  write_text_file(dir / "e.yaml", "batch_size: 16\nmodel: CLIP\n");
  const Outcome r = deft_cli({"embed", "-e", (dir / "e.yaml").string(), "--batch-size", "8",
                              "batch_size=4", "--model=DINOv2", "model_path='/models/my dino'",
                              "model_config_path=", "+output_parquet=o.parquet", "--cfg=job"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "input_parquet: ???\noutput_parquet: o.parquet\nmodel: DINOv2\n"
            "model_path: /models/my dino\nmodel_config_path: ''\nbatch_size: 4\n" +
                std::string(kEmbeddingExtensions));
}

TEST(CliConfig, RunRoutesKeysToTheSpecThatOwnsThem) {
  ScratchDir dir;
  write_text_file(dir / "e.yaml",
                  "input_parquet: ???\noutput_parquet: ???\nmodel: CLIP\nbatch_size: 16\n");
  write_text_file(dir / "m.yaml", "topn: 7\nfilter_by_label: \"true\"\n");
  const Outcome r = deft_cli({"run", "-e", (dir / "e.yaml").string(), "-m",
                              (dir / "m.yaml").string(), "batch_size=8", "mining.topn=3",
                              "embedding.model_path=/ckpt", "output_dir=out", "--cfg=job"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "target_parquet: ???\nsource_parquet: ???\noutput_dir: out\ntarget_text: null\n"
            "mode: nearest_neighbors\n"
            "run_dir: null\nsource_embeddings: null\nfresh: false\nthreads: 0\n"
            "embedding:\n  model: CLIP\n  model_path: /ckpt\n  model_config_path: ''\n"
            "  batch_size: 8\n" +
                indented(kEmbeddingExtensions) +
                "mining:\n  topn: 3\n  knn_metric: cosine\n  filter_by_label: \"true\"\n"
                "  distance_threshold: -1.0\n  source_embed_column_name: embedding\n"
                "  target_embed_column_name: embedding\n" +
                indented(kMiningExtensions));
  EXPECT_EQ(r.err, "");  // the reference spec's ??? file keys are skipped quietly
}

TEST(CliConfig, RunWarnsWhenAStepSpecNamesItsOwnFiles) {
  ScratchDir dir;
  write_text_file(dir / "e.yaml", "input_parquet: /data/t.parquet\nmodel: CLIP\n");
  const Outcome r = deft_cli({"run", "-e", (dir / "e.yaml").string(), "--cfg=job"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("line 1: input_parquet is ignored; `deft run` chooses the files"));
}

TEST(CliConfig, NestedYamlMapsAreDottedKeys) {
  ScratchDir dir;
  write_text_file(dir / "run.yaml",
                  "output_dir: results\nembedding:\n  batch_size: 12\nmining:\n  topn: 2\n");
  cli::Config config(cli::run_options());
  cli::apply_spec_file(config, dir / "run.yaml");
  EXPECT_EQ(config.get_int("embedding.batch_size"), 12);
  EXPECT_EQ(config.get_int("mining.topn"), 2);
  EXPECT_EQ(config.get_string("output_dir"), "results");
}

TEST(CliConfig, ResolvedYamlParsesBackToTheSameConfig) {
  ScratchDir dir;
  cli::Config config(cli::embedding_options());
  // Strings YAML would misread if printed bare.
  const std::vector<std::pair<std::string, std::string>> tricky = {
      {"input_parquet", "data/it's here: #1.parquet"},
      {"output_parquet", "true"},
      {"model_path", "123"},
      {"model_config_path", " padded "}};
  for (const auto& [key, text] : tricky)
    config.set(key, cli::RawValue{text, true, false}, "test");
  const std::string yaml = config.to_yaml();
  write_text_file(dir / "resolved.yaml", yaml);
  cli::Config again(cli::embedding_options());
  cli::apply_spec_file(again, dir / "resolved.yaml");
  EXPECT_EQ(again.to_yaml(), yaml);
  for (const auto& [key, text] : tricky)
    EXPECT_EQ(again.get_string(key), text) << key;
}

TEST(CliConfig, BadSpecFilesAreUsageErrorsNamingFileAndLine) {
  ScratchDir dir;
  write_text_file(dir / "broken.yaml", "topn: 5\nknn_metric: [cosine\n");
  Outcome r = deft_cli({"mine", "-e", (dir / "broken.yaml").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("broken.yaml"), HasSubstr("line ")));

  write_text_file(dir / "list.yaml", "topn: 5\nknn_metric:\n  - cosine\n");
  r = deft_cli({"mine", "-e", (dir / "list.yaml").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("'knn_metric' is a list"));

  write_text_file(dir / "typo.yaml", "topn: 5\nknn_metrc: cosine\n");
  r = deft_cli({"mine", "-e", (dir / "typo.yaml").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("typo.yaml' line 2"), HasSubstr("did you mean 'knn_metric'")));

  write_text_file(dir / "scalar.yaml", "just a string\n");
  r = deft_cli({"mine", "-e", (dir / "scalar.yaml").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("must be a YAML map"));

  r = deft_cli({"mine", "-e", (dir / "absent.yaml").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("spec file '" + (dir / "absent.yaml").string() + "' not found"));
}

TEST(CliConfig, MalformedCommandLinesAreUsageErrors) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "no command given"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"embed", "stray"}, "unexpected argument 'stray'"},
      {{"embed", "-x"}, "unknown option '-x'"},
      {{"embed", "-e"}, "-e needs a value"},
      {{"embed", "--cfg=hydra"}, "only --cfg=job"},
      {{"embed", "-m", "m.yaml"}, "-m (mining spec) belongs to `deft run`"},
      {{"demo", "-e", "e.yaml"}, "takes no spec file"},
      {{"tmm", "unique_neighbor_matching"},
       "missing required values for `tmm unique_neighbor_matching`: source_path, target_path, "
       "output_dir, desired_unique_count"},
      {{"select", "source_path=a", "target_path=b", "output_dir=o", "desired_unique_count=0"},
       "'desired_unique_count' must be an integer >= 1, got '0'"},
  };
  for (const auto& [args, message] : cases) {
    const Outcome r = deft_cli(args);
    EXPECT_EQ(r.code, 2) << message;
    EXPECT_THAT(r.err, HasSubstr(message));
  }
}

TEST(CliConfig, HelpListsEveryKeyOfTheCommand) {
  for (const auto& [verb, table] :
       std::vector<std::pair<std::vector<std::string>, const cli::OptionTable*>>{
           {{"embed", "--help"}, &cli::embedding_options()},
           {{"tmm", "nearest_neighbors", "-h"}, &cli::mining_options()},
           {{"help", "run"}, &cli::run_options()},
           {{"tmm", "unique_neighbor_matching", "--help"}, &cli::selection_options()},
           {{"demo", "--help"}, &cli::demo_options()}}) {
    const Outcome r = deft_cli(verb);
    EXPECT_EQ(r.code, 0);
    for (const cli::OptionSpec& o : table->options()) {
      EXPECT_THAT(r.out, HasSubstr("  " + o.key + " (")) << verb[0];
    }
    EXPECT_THAT(r.out, HasSubstr("Exit codes: 0 success; 1 the run failed"));
  }
  const Outcome overview = deft_cli({"--help"});
  EXPECT_EQ(overview.code, 0);
  EXPECT_THAT(overview.out, AllOf(HasSubstr("embedding image_embeddings"),
                                  HasSubstr("tmm nearest_neighbors"), HasSubstr("demo")));
}

TEST(CliConfig, ClosestKeyAndEditDistance) {
  EXPECT_EQ(cli::edit_distance("topm", "topn"), 1U);
  EXPECT_EQ(cli::edit_distance("", "abc"), 3U);
  EXPECT_EQ(cli::edit_distance("kitten", "sitting"), 3U);
  EXPECT_EQ(cli::run_options().closest_key("topm"), "mining.topn");
  EXPECT_EQ(cli::mining_options().closest_key("filter_by_labels"), "filter_by_label");
  EXPECT_EQ(cli::mining_options().closest_key("xyz"), "");
}

}  // namespace
}  // namespace deft
