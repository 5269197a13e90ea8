// A YAML spec and command-line words for every command, resolved as deft resolves them
// (spec, then `key=value` overrides and `--key value` flags, then validation), then turned
// into the command's job as the command would. The resolved config's YAML (--cfg=job) must
// parse back to the same config.
// Input: the spec's text, then optionally a NUL and command-line words, one per line.
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "fuzz_support.h"

namespace {

using deft::cli::Config;

struct Form {
  std::vector<std::string> verb;
  void (*build)(const Config&);  // the command's job, from a complete config
};

const std::vector<Form>& forms() {
  static const std::vector<Form> all = {
      {{"embed"}, [](const Config& c) { (void)deft::cli::embed_job_from(c); }},
      {{"embedding", "image_embeddings"},
       [](const Config& c) { (void)deft::cli::embed_job_from(c); }},
      {{"embed-text"}, [](const Config& c) { (void)deft::cli::text_embed_job_from(c); }},
      {{"embedding", "text_embeddings"},
       [](const Config& c) { (void)deft::cli::text_embed_job_from(c); }},
      {{"mine"}, [](const Config& c) { (void)deft::cli::mine_job_from(c); }},
      {{"tmm", "nearest_neighbors"}, [](const Config& c) { (void)deft::cli::mine_job_from(c); }},
      {{"select"}, [](const Config& c) { (void)deft::cli::select_job_from(c); }},
      {{"tmm", "unique_neighbor_matching"},
       [](const Config& c) { (void)deft::cli::select_job_from(c); }},
      {{"run"}, nullptr},
      {{"demo"}, nullptr}};
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool ready = (deft::fuzz::silence_log(), true);
  (void)ready;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string spec = deft::fuzz::write_input("spec.yaml", input.substr(0, split)).string();
  std::vector<std::string> words;
  if (split != std::string_view::npos) {
    std::string_view rest = input.substr(split + 1);
    while (!rest.empty()) {
      const size_t end = rest.find('\n');
      words.emplace_back(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
  }
  for (const Form& form : forms()) {
    std::vector<std::string> args = form.verb;
    if (form.verb[0] != "demo") args.insert(args.end(), {"-e", spec});
    if (form.verb[0] == "run") args.insert(args.end(), {"-m", spec});
    args.insert(args.end(), words.begin(), words.end());
    deft::fuzz::expect_refusal_only([&] {
      const Config config = deft::cli::resolve_command_line(args);
      if (form.build == nullptr) return;
      // --cfg=job's YAML read back as the spec gives the same config.
      const std::string yaml = config.to_yaml();
      std::vector<std::string> again = form.verb;
      again.insert(again.end(), {"-e", deft::fuzz::write_input("resolved.yaml", yaml).string()});
      if (deft::cli::resolve_command_line(again).to_yaml() != yaml) __builtin_trap();
      if (config.missing_keys().empty()) form.build(config);
    });
  }
  return 0;
}
