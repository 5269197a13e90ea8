#include "history/mining_history.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/log.h"
#include "common/output_set.h"
#include "common/sha256.h"
#include "history/pool_groups.h"
#include "mine/labels.h"
#include "table/table_reader.h"
#include "table/value_columns.h"

namespace deft::history {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRepairHint =
    "restore the file from a backup, or set history_repair=true to rebuild the manifest from "
    "the round files (it says what changed)";

// What a round's parquet holds: its rows' group ids, its round numbers, rows per label.
struct RoundFile {
  uint64_t rows = 0;
  std::vector<std::string> groups;
  std::map<std::string, uint64_t> per_label;
  std::vector<int64_t> rounds;  // distinct values of its `round` column
};

RoundFile read_round_file(table::Database& db, const fs::path& file) {
  table::TableReader reader(
      db, file, {.columns = {"group_id", "round"}, .optional_columns = {table::kLabelColumn}});
  const std::optional<size_t> label = reader.label_column();
  RoundFile out;
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    duckdb_vector groups = duckdb_data_chunk_get_vector(chunk.get(), 0);
    duckdb_vector rounds = duckdb_data_chunk_get_vector(chunk.get(), 1);
    for (idx_t i = 0; i < n; ++i) {
      ++out.rows;
      if (auto g = mine::label_at(groups, reader.column_type(0), i)) out.groups.push_back(*g);
      if (const auto r = mine::label_at(rounds, reader.column_type(1), i)) {
        const int64_t v = std::strtoll(r->c_str(), nullptr, 10);
        if (std::find(out.rounds.begin(), out.rounds.end(), v) == out.rounds.end())
          out.rounds.push_back(v);
      }
      if (label) {
        const auto l = mine::label_at(duckdb_data_chunk_get_vector(chunk.get(), *label),
                                      reader.column_type(*label), i);
        ++out.per_label[l.value_or(kNoLabel)];
      }
    }
  }
  return out;
}

// The round parquets in `folder`, by round number.
std::map<int, std::string> round_files(const fs::path& folder) {
  std::map<int, std::string> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (const std::optional<int> r = round_of_file(name)) out[*r] = name;
  }
  return out;
}

std::optional<std::string> summary_copy(const fs::path& folder, int round) {
  for (const char* extension : {"txt", "json"}) {
    const std::string name = round_summary_name(round, extension);
    std::error_code ec;
    if (fs::is_regular_file(folder / name, ec)) return name;
  }
  return std::nullopt;
}

std::string utc_time(fs::file_time_type t) {
  // g++ 12 lacks clock_cast: the file clock's offset to the system clock, measured now.
  const auto system = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      t - fs::file_time_type::clock::now() + std::chrono::system_clock::now());
  const std::time_t seconds = std::chrono::system_clock::to_time_t(system);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

void refuse_problems(const fs::path& folder, const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  throw Error(
      ErrorKind::kInput,
      fmt::format("mining history '{}': {}{}", folder.string(), problems.front(),
                  problems.size() > 1 ? fmt::format(" (and {} more problem{})", problems.size() - 1,
                                                    problems.size() > 2 ? "s" : "")
                                      : ""),
      kRepairHint);
}

}  // namespace

void verify_history_folder(table::Database& db, const fs::path& folder, const fs::path& pool,
                           const std::string& filepath_column, const std::string& group_column) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return;
  // A commit a killed round left half done is finished by the next round's lock holder: the
  // folder is checked then, not here.
  for (const fs::directory_entry& e : fs::directory_iterator(folder, ec)) {
    if (e.path().filename().string().starts_with(".deft-commit-")) return;
  }
  if (!fs::is_regular_file(folder / kManifestFile, ec)) {
    const std::map<int, std::string> files = round_files(folder);
    if (!files.empty()) {
      throw Error(ErrorKind::kInput,
                  fmt::format("mining history '{}' holds round files ({}) but no {}",
                              folder.string(), files.begin()->second, kManifestFile),
                  kRepairHint);
    }
    return;
  }
  const Manifest manifest = read_manifest(folder);
  refuse_problems(folder, verify_manifest(manifest, folder));
  const std::string ours = resolve_group_column(db, pool, filepath_column, group_column);
  if (!manifest.rounds.empty() && manifest.group_column != ours) {
    throw Error(ErrorKind::kInput,
                fmt::format("mining history '{}' identifies items by the column '{}', this round "
                            "by '{}': their ids cannot be compared",
                            folder.string(), manifest.group_column, ours),
                fmt::format("set group_column={}", manifest.group_column));
  }
}

std::string local_time_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

InputIdentity identify_input(table::Database&, const std::string& role, const fs::path& table,
                             uint64_t rows) {
  InputIdentity id{role, fs::absolute(table).lexically_normal().string(), 0, "", rows};
  std::error_code ec;
  fs::file_time_type newest = fs::file_time_type::min();
  const auto count = [&](const fs::path& file) {
    id.bytes += fs::file_size(file, ec);
    newest = std::max(newest, fs::last_write_time(file, ec));
  };
  if (fs::is_directory(table, ec)) {
    for (const fs::path& file : table::table_files(table))
      count(file);
  } else {
    count(table);
  }
  id.modified = utc_time(newest);
  return id;
}

MiningHistory::MiningHistory(table::Database& db, const HistorySettings& settings,
                             const std::string& group_column,
                             const std::optional<model::EncoderFingerprint>& pool_encoder)
    : folder_(settings.folder), settings_(settings) {
  std::error_code ec;
  if (fs::exists(folder_, ec) && !fs::is_directory(folder_, ec)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("history '{}' is a file; it should be a folder", folder_.string()),
                "give history a folder (it is created if missing)");
  }
  fs::create_directories(folder_, ec);
  if (ec) {
    throw Error(ErrorKind::kRun, fmt::format("cannot create the history folder '{}': {}",
                                             fs::absolute(folder_).string(), ec.message()));
  }
  lock_.emplace(folder_ / kManifestFile);
  load(db, group_column, pool_encoder);
}

void MiningHistory::load(table::Database& db, const std::string& group_column,
                         const std::optional<model::EncoderFingerprint>& pool_encoder) {
  const fs::path manifest_path = folder_ / kManifestFile;
  std::error_code ec;
  const bool has_manifest = fs::is_regular_file(manifest_path, ec);
  const std::map<int, std::string> files = round_files(folder_);
  if (settings_.repair && (has_manifest || !files.empty())) {
    rebuild(db, group_column, pool_encoder);
  } else if (has_manifest) {
    manifest_ = read_manifest(folder_);
    refuse_problems(folder_, verify_manifest(manifest_, folder_));
  } else if (!files.empty()) {
    throw Error(ErrorKind::kInput,
                fmt::format("mining history '{}' holds round files ({}) but no {}",
                            folder_.string(), files.begin()->second, kManifestFile),
                kRepairHint);
  } else {
    manifest_.group_column = group_column;
    if (pool_encoder) {
      manifest_.encoder = pool_encoder->to_json();
      manifest_.encoder_name = model::describe(*pool_encoder);
    }
  }
  if (manifest_.group_column != group_column) {
    throw Error(ErrorKind::kInput,
                fmt::format("mining history '{}' identifies items by the column '{}', this round "
                            "by '{}': their ids cannot be compared",
                            folder_.string(), manifest_.group_column, group_column),
                fmt::format("set group_column={}", manifest_.group_column));
  }
  check_encoder(pool_encoder);
  read_groups(db);
}

MiningHistory::MiningHistory(table::Database& db, const HistorySettings& settings, Follow)
    : folder_(settings.folder), settings_(settings) {
  std::error_code ec;
  if (fs::is_regular_file(folder_ / kManifestFile, ec)) manifest_ = read_manifest(folder_);
  read_groups(db);
}

void MiningHistory::read_groups(table::Database& db) {
  for (const RoundRecord& r : manifest_.rounds) {
    const RoundFile file = read_round_file(db, folder_ / round_file_name(r.round));
    mined_groups_.insert(file.groups.begin(), file.groups.end());
    mined_so_far_ += file.rows;
  }
}

void MiningHistory::check_encoder(const std::optional<model::EncoderFingerprint>& pool_encoder) {
  if (manifest_.rounds.empty()) {
    if (pool_encoder) {
      manifest_.encoder = pool_encoder->to_json();
      manifest_.encoder_name = model::describe(*pool_encoder);
    }
    return;
  }
  if (manifest_.encoder && pool_encoder) {
    const model::EncoderFingerprint before = model::EncoderFingerprint::from_json(
        *manifest_.encoder, (folder_ / kManifestFile).string());
    if (!model::same_encoder(before, *pool_encoder)) {
      throw Error(
          ErrorKind::kInput,
          fmt::format("mining history '{}' was made with {}, but this round's pool was "
                      "embedded by {}: what earlier rounds mined was judged in another "
                      "space",
                      folder_.string(), model::describe(before), model::describe(*pool_encoder)),
          "start a new history folder for this encoder, or embed the pool with the "
          "history's encoder");
    }
    return;
  }
  if (manifest_.encoder.has_value() != pool_encoder.has_value()) {
    warnings_.push_back(fmt::format(
        "mining history '{}': the encoder could not be compared ({} no fingerprint)",
        folder_.string(), pool_encoder ? "the history records" : "this round's pool has"));
    log::warn("{}", warnings_.back());
  }
}

// history_repair: the manifest made again from the round files. Records of rounds whose file
// is there are kept (their time, spec, inputs, counts), their artifacts hashed again and their
// yield recounted; every change is said.
void MiningHistory::rebuild(table::Database& db, const std::string& group_column,
                            const std::optional<model::EncoderFingerprint>& pool_encoder) {
  std::error_code ec;
  Manifest before;
  if (fs::is_regular_file(folder_ / kManifestFile, ec)) {
    try {
      before = read_manifest(folder_);
    } catch (const Error& e) {
      repaired_.push_back(fmt::format("the manifest could not be read ({}): made anew", e.what()));
    }
  } else {
    repaired_.push_back(fmt::format("there was no {}: made from the round files", kManifestFile));
  }
  if (before.group_column.empty()) before.group_column = group_column;
  const std::map<int, std::string> files = round_files(folder_);
  int expected = 1;
  for (const auto& [round, name] : files) {
    if (round != expected) {
      throw Error(ErrorKind::kInput,
                  fmt::format("mining history '{}' cannot be repaired: round {} has no file "
                              "({}), but round {} has",
                              folder_.string(), expected, round_file_name(expected), round),
                  "restore the missing round file; rounds must be numbered 1, 2, 3 … without "
                  "gaps");
    }
    ++expected;
  }
  Manifest after = before;
  after.rounds.clear();
  for (const auto& file_entry : files) {
    const int round = file_entry.first;
    const std::string& name = file_entry.second;
    const auto old = std::find_if(before.rounds.begin(), before.rounds.end(),
                                  [round](const RoundRecord& r) { return r.round == round; });
    RoundRecord record;
    if (old != before.rounds.end()) {
      record = *old;
    } else {
      record.round = round;
      record.time = "unknown (rebuilt by history_repair)";
      record.command = "unknown";
      repaired_.push_back(
          fmt::format("round {} was not in the manifest: added from {}", round, name));
    }
    std::vector<Artifact> artifacts = {hash_artifact(folder_, name)};
    if (const std::optional<std::string> summary = summary_copy(folder_, round))
      artifacts.push_back(hash_artifact(folder_, *summary));
    for (const Artifact& now : artifacts) {
      const auto was = std::find_if(record.artifacts.begin(), record.artifacts.end(),
                                    [&](const Artifact& a) { return a.file == now.file; });
      if (was == record.artifacts.end()) {
        if (old != before.rounds.end())
          repaired_.push_back(fmt::format("round {}: {} added to the manifest", round, now.file));
      } else if (was->sha256 != now.sha256) {
        repaired_.push_back(fmt::format("round {}: {} changed (sha256 {} → {}, {} → {} bytes)",
                                        round, now.file, was->sha256, now.sha256, was->bytes,
                                        now.bytes));
      }
    }
    for (const Artifact& a : record.artifacts) {
      if (std::none_of(artifacts.begin(), artifacts.end(),
                       [&](const Artifact& now) { return now.file == a.file; })) {
        repaired_.push_back(
            fmt::format("round {}: {} is missing: dropped from the manifest", round, a.file));
      }
    }
    record.artifacts = artifacts;
    RoundFile file;
    try {
      file = read_round_file(db, folder_ / name);
    } catch (const Error& e) {
      throw Error(ErrorKind::kInput,
                  fmt::format("mining history '{}' cannot be repaired: round {}'s file cannot be "
                              "read ({})",
                              folder_.string(), round, e.what()),
                  "restore the file from a backup; repair rebuilds the manifest from readable "
                  "round files only");
    }
    if (file.rounds.size() > 1 || (file.rounds.size() == 1 && file.rounds.front() != round)) {
      repaired_.push_back(fmt::format("round {}: {} holds rows of round {}", round, name,
                                      fmt::join(file.rounds, ", ")));
    }
    if (record.counts.mined != file.rows) {
      repaired_.push_back(fmt::format("round {}: mined {} → {} (the rows of {})", round,
                                      record.counts.mined, file.rows, name));
      record.counts.mined = file.rows;
    }
    if (!record.mined_per_label.empty() || !file.per_label.empty())
      record.mined_per_label = file.per_label;
    after.rounds.push_back(std::move(record));
  }
  for (const RoundRecord& r : before.rounds) {
    if (files.count(r.round) == 0) {
      repaired_.push_back(fmt::format("round {} had no file ({}): removed from the manifest",
                                      r.round, round_file_name(r.round)));
    }
  }
  manifest_ = std::move(after);
  // A manifest rebuilt without its encoder takes this round's, so that later rounds are still
  // checked against one (said, since nothing proves the earlier rounds used it).
  if (!manifest_.encoder && pool_encoder) {
    manifest_.encoder = pool_encoder->to_json();
    manifest_.encoder_name = model::describe(*pool_encoder);
    if (!manifest_.rounds.empty()) {
      repaired_.push_back(fmt::format(
          "the history's encoder was not known: this round's ({}) is recorded as its encoder",
          manifest_.encoder_name));
    }
  }
  if (repaired_.empty()) {
    log::info("history_repair: mining history '{}' verified, nothing to change", folder_.string());
    return;
  }
  for (const std::string& line : repaired_)
    log::warn("history_repair: {}", line);
  manifest_.repairs.push_back(fmt::format("{}: {}", local_time_now(), fmt::join(repaired_, "; ")));
  write_file_atomically(folder_ / kManifestFile, manifest_json(manifest_));
}

void MiningHistory::append(table::Database& db, RoundRecord record, const RoundRows& rows,
                           const std::string& summary, const std::string& extension) {
  record.round = round();
  const std::string parquet_name = round_file_name(record.round);
  const std::string summary_name = round_summary_name(record.round, extension);
  OutputSet outputs;
  // The parquet goes to a temporary first, so that its sha256 is known before the commit.
  const fs::path staged = prepare_output(folder_ / parquet_name);
  {
    using table::ValueColumn;
    std::vector<ValueColumn> columns = {
        ValueColumn::of("filepath", ValueColumn::Kind::kText),
        ValueColumn::of("group_id", ValueColumn::Kind::kText),
        ValueColumn::of("target_filepath", ValueColumn::Kind::kText),
        ValueColumn::of("distance", ValueColumn::Kind::kReal),
        ValueColumn::of("round", ValueColumn::Kind::kInt),
        ValueColumn::of("label", ValueColumn::Kind::kText)};
    for (size_t i = 0; i < rows.filepath.size(); ++i) {
      columns[0].text.emplace_back(rows.filepath[i]);
      columns[1].text.emplace_back(rows.group[i]);
      columns[2].text.emplace_back(rows.target[i]);
      columns[3].reals.emplace_back(rows.distance[i]);
      columns[4].ints.emplace_back(record.round);
      columns[5].text.push_back(rows.label[i] == kNoLabel ? std::nullopt
                                                          : std::optional(rows.label[i]));
    }
    table::write_value_columns(
        db, staged, columns,
        {.kv_metadata = {{"deft.history_round", std::to_string(record.round)}}});
  }
  record.artifacts = {
      {parquet_name, sha256_file_hex(staged), static_cast<uint64_t>(fs::file_size(staged))},
      {summary_name, sha256_hex(summary.data(), summary.size()), summary.size()}};
  record.counts.mined = rows.filepath.size();
  outputs.add(staged, folder_ / parquet_name);
  write_file_atomically(folder_ / summary_name, summary, &outputs);
  Manifest next = manifest_;
  next.rounds.push_back(record);
  write_file_atomically(folder_ / kManifestFile, manifest_json(next), &outputs);
  outputs.commit();
  manifest_ = std::move(next);
  log::info("mining history '{}': round {} recorded ({} items; {} over every round)",
            folder_.string(), record.round, record.counts.mined,
            mined_so_far_ + record.counts.mined);
}

}  // namespace deft::history
