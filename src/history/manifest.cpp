#include "history/manifest.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_values.h"
#include "common/sha256.h"

namespace deft::history {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string round_file_name(int round) {
  return fmt::format("round_{:04d}.parquet", round);
}

std::string round_summary_name(int round, const std::string& extension) {
  return fmt::format("round_{:04d}_summary.{}", round, extension);
}

std::optional<int> round_of_file(const std::string& name) {
  constexpr std::string_view prefix = "round_", suffix = ".parquet";
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix)) {
    return std::nullopt;
  }
  const std::string digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const int round = std::stoi(digits);
  // Only the name deft writes: round_1.parquet or round_00001.parquet are other files.
  return round >= 1 && round_file_name(round) == name ? std::optional(round) : std::nullopt;
}

Artifact hash_artifact(const fs::path& folder, const std::string& file) {
  const fs::path path = folder / file;
  return {file, sha256_file_hex(path), static_cast<uint64_t>(fs::file_size(path))};
}

namespace {

Json artifacts_json(const std::vector<Artifact>& artifacts, const char* name_key) {
  Json list = Json::array();
  for (const Artifact& a : artifacts)
    list.push_back({{name_key, a.file}, {"sha256", a.sha256}, {"bytes", a.bytes}});
  return list;
}

Json counts_json(const std::map<std::string, uint64_t>& counts) {
  Json object = Json::object();
  for (const auto& [key, n] : counts)
    object[key] = n;
  return object;
}

// Reading: every value checked for its type, errors naming the file and the key.
class Reader {
 public:
  explicit Reader(fs::path file) : file_(std::move(file)) {}

  const Json& field(const Json& object, const char* key, const std::string& where) const {
    if (!object.is_object() || !object.contains(key)) {
      fail(fmt::format("{} has no '{}'", where, key));
    }
    return object.at(key);
  }
  std::string text(const Json& object, const char* key, const std::string& where) const {
    const Json& v = field(object, key, where);
    if (!v.is_string())
      fail(fmt::format("'{}' of {} should be text, is {}", key, where, json_excerpt(v)));
    return v.get<std::string>();
  }
  uint64_t count(const Json& object, const char* key, const std::string& where) const {
    const Json& v = field(object, key, where);
    const std::optional<int64_t> n = whole_number(v);
    if (!n || *n < 0) {
      fail(fmt::format("'{}' of {} should be a count, is {}", key, where, json_excerpt(v)));
    }
    return static_cast<uint64_t>(*n);
  }
  std::vector<Artifact> artifacts(const Json& object, const char* key, const char* name_key,
                                  const std::string& where) const {
    std::vector<Artifact> out;
    const Json& list = field(object, key, where);
    if (!list.is_array()) fail(fmt::format("'{}' of {} should be a list", key, where));
    for (const Json& a : list) {
      const std::string at = fmt::format("an entry of '{}' of {}", key, where);
      out.push_back({text(a, name_key, at), text(a, "sha256", at), count(a, "bytes", at)});
      // An artifact is a file of the history folder itself: never a path that leaves it.
      const std::string& name = out.back().file;
      if (std::string_view(name_key) == "file" &&
          (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")) {
        fail(fmt::format("{} names '{}', which is not a file of the history folder", at, name));
      }
    }
    return out;
  }
  std::map<std::string, uint64_t> counts(const Json& object, const char* key,
                                         const std::string& where) const {
    std::map<std::string, uint64_t> out;
    if (!object.contains(key)) return out;
    const Json& map = object.at(key);
    if (!map.is_object()) fail(fmt::format("'{}' of {} should be an object", key, where));
    for (const auto& [label, n] : map.items()) {
      const std::optional<int64_t> v = whole_number(n);
      if (!v || *v < 0) fail(fmt::format("'{}.{}' of {} should be a count", key, label, where));
      out[label] = static_cast<uint64_t>(*v);
    }
    return out;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorKind::kInput, fmt::format("mining history '{}': {}", file_.string(), what),
                "restore the file, or set history_repair=true to rebuild it from the round files");
  }

 private:
  fs::path file_;
};

}  // namespace

std::string manifest_json(const Manifest& m) {
  Json rounds = Json::array();
  for (const RoundRecord& r : m.rounds) {
    Json inputs = Json::array();
    for (const InputIdentity& in : r.inputs) {
      inputs.push_back({{"role", in.role},
                        {"path", in.path},
                        {"bytes", in.bytes},
                        {"modified", in.modified},
                        {"rows", in.rows}});
    }
    const RoundCounts& c = r.counts;
    rounds.push_back({{"round", r.round},
                      {"time", r.time},
                      {"command", r.command},
                      {"inputs", inputs},
                      {"counts",
                       {{"targets", c.targets},
                        {"pool_rows", c.pool_rows},
                        {"excluded_by_history", c.excluded_by_history},
                        {"candidates", c.candidates},
                        {"candidates_already_mined", c.candidates_already_mined},
                        {"mined", c.mined},
                        {"capped", c.capped}}},
                      {"mined_per_label", counts_json(r.mined_per_label)},
                      {"pool_rows_per_label", counts_json(r.pool_rows_per_label)},
                      {"artifacts", artifacts_json(r.artifacts, "file")},
                      {"outputs", artifacts_json(r.outputs, "path")},
                      {"spec", r.spec}});
  }
  Json out = {{"format", m.format},
              {"group_column", m.group_column},
              {"encoder", m.encoder ? Json(*m.encoder) : Json(nullptr)},
              {"encoder_name", m.encoder_name},
              {"rounds", rounds},
              {"repairs", m.repairs}};
  return out.dump(2) + "\n";
}

Manifest read_manifest(const fs::path& folder) {
  const fs::path file = folder / kManifestFile;
  const Reader in(file);
  std::ifstream stream(file, std::ios::binary);
  if (!stream) in.fail("cannot be read");
  std::stringstream text;
  text << stream.rdbuf();
  Json json = Json::parse(text.str(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) in.fail("is not a JSON object");
  Manifest m;
  m.format = in.text(json, "format", "the manifest");
  if (m.format != kManifestFormat) {
    in.fail(fmt::format("format '{}' is not '{}'", m.format, kManifestFormat));
  }
  m.group_column = in.text(json, "group_column", "the manifest");
  if (const Json& e = in.field(json, "encoder", "the manifest"); !e.is_null()) {
    m.encoder = in.text(json, "encoder", "the manifest");
  }
  if (json.contains("encoder_name")) m.encoder_name = in.text(json, "encoder_name", "the manifest");
  const Json& rounds = in.field(json, "rounds", "the manifest");
  if (!rounds.is_array()) in.fail("'rounds' should be a list");
  for (size_t i = 0; i < rounds.size(); ++i) {
    const Json& r = rounds[i];
    const std::string where = fmt::format("rounds[{}]", i);
    RoundRecord record;
    const uint64_t number = in.count(r, "round", where);
    if (number < 1 || number > 1000000) {
      in.fail(fmt::format("'round' of {} should be from 1 to 1000000, is {}", where, number));
    }
    record.round = static_cast<int>(number);
    record.time = in.text(r, "time", where);
    record.command = in.text(r, "command", where);
    record.spec = in.text(r, "spec", where);
    const Json& inputs = in.field(r, "inputs", where);
    if (!inputs.is_array()) in.fail(fmt::format("'inputs' of {} should be a list", where));
    for (const Json& t : inputs) {
      const std::string at = "an input of " + where;
      record.inputs.push_back({in.text(t, "role", at), in.text(t, "path", at),
                               in.count(t, "bytes", at), in.text(t, "modified", at),
                               in.count(t, "rows", at)});
    }
    const Json& c = in.field(r, "counts", where);
    const std::string at = "the counts of " + where;
    record.counts = {in.count(c, "targets", at),
                     in.count(c, "pool_rows", at),
                     in.count(c, "excluded_by_history", at),
                     in.count(c, "candidates", at),
                     in.count(c, "candidates_already_mined", at),
                     in.count(c, "mined", at),
                     in.count(c, "capped", at)};
    record.mined_per_label = in.counts(r, "mined_per_label", where);
    record.pool_rows_per_label = in.counts(r, "pool_rows_per_label", where);
    record.artifacts = in.artifacts(r, "artifacts", "file", where);
    record.outputs = in.artifacts(r, "outputs", "path", where);
    m.rounds.push_back(std::move(record));
  }
  if (json.contains("repairs")) {
    const Json& repairs = json.at("repairs");
    if (!repairs.is_array()) in.fail("'repairs' should be a list");
    for (const Json& line : repairs) {
      if (!line.is_string()) in.fail("'repairs' should be a list of text");
      m.repairs.push_back(line.get<std::string>());
    }
  }
  return m;
}

std::vector<std::string> verify_manifest(const Manifest& m, const fs::path& folder) {
  std::vector<std::string> problems;
  std::set<std::string> listed;
  for (size_t i = 0; i < m.rounds.size(); ++i) {
    const RoundRecord& r = m.rounds[i];
    if (r.round != static_cast<int>(i + 1)) {
      problems.push_back(fmt::format(
          "rounds are not numbered 1, 2, 3 … without gaps: round {} is listed {}", r.round,
          i == 0 ? "first" : fmt::format("after round {}", m.rounds[i - 1].round)));
    }
    if (std::none_of(r.artifacts.begin(), r.artifacts.end(),
                     [&](const Artifact& a) { return a.file == round_file_name(r.round); })) {
      problems.push_back(
          fmt::format("round {} does not list its file {}", r.round, round_file_name(r.round)));
    }
    for (const Artifact& a : r.artifacts) {
      listed.insert(a.file);
      const fs::path path = folder / a.file;
      std::error_code ec;
      if (!fs::is_regular_file(path, ec)) {
        problems.push_back(
            fmt::format("round {}'s artifact '{}' is missing", r.round, path.string()));
        continue;
      }
      const std::string now = sha256_file_hex(path);
      if (now != a.sha256) {
        problems.push_back(fmt::format(
            "round {}'s artifact '{}' was modified: its sha256 is {}, the manifest recorded {}",
            r.round, path.string(), now, a.sha256));
      }
    }
  }
  std::error_code ec;
  std::vector<std::string> strays;
  for (const fs::directory_entry& e : fs::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (round_of_file(name) && listed.count(name) == 0) strays.push_back(name);
  }
  std::sort(strays.begin(), strays.end());
  for (const std::string& name : strays) {
    problems.push_back(
        fmt::format("'{}' is a round file the manifest does not list", (folder / name).string()));
  }
  return problems;
}

}  // namespace deft::history
