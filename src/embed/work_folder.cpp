#include "embed/work_folder.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/log.h"
#include "common/output_set.h"
#include "embed/image_file.h"
#include "parallel/cluster.h"
#include "table/embedding_table.h"
#include "table/parquet_writer.h"
#include "table/path_base.h"

namespace deft::embed {

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The settings that differ between an earlier run's manifest and this one's, in words; "" when
// they are the same (the finished chunks can be kept).
std::string manifest_changes(const std::string& earlier, const std::string& now) {
  if (earlier == now) return "";
  nlohmann::json a;
  try {
    a = nlohmann::json::parse(earlier);
  } catch (const nlohmann::json::exception&) {
    return "an unreadable manifest";
  }
  const nlohmann::json b = nlohmann::json::parse(now);
  std::vector<std::string> keys;
  for (const auto& [key, value] : b.items()) {
    if (!a.contains(key) || a.at(key) != value) keys.push_back(key);
  }
  for (const auto& [key, value] : a.items()) {
    if (!b.contains(key)) keys.push_back(key);
  }
  if (keys.empty()) return "";
  std::string said = fmt::format("{} changed", fmt::join(keys, ", "));
  const bool speed_only = std::all_of(keys.begin(), keys.end(), [](const std::string& k) {
    return k == "batch_size" || k == "threads";
  });
  if (speed_only) {
    said +=
        " (bf16 results depend on the batch and thread count: the chunks are embedded again "
        "so that every row comes from one setting; fp32 runs keep them)";
  }
  return said;
}

uint64_t metadata_count(const std::map<std::string, std::string>& metadata, const char* key) {
  const auto it = metadata.find(key);
  return it == metadata.end() ? 0 : std::stoull(it->second);
}

}  // namespace

// Everything that decides the output: a partial run resumes only under the same manifest.
std::string make_manifest(const EmbedJob& job, const model::EncoderFingerprint& fingerprint,
                          const fs::path& base, uint64_t rows, const std::string& reuse_source) {
  // A table folder changes when any of its files does: their total size and latest mtime.
  FileStat input{true, 0, 0};
  for (const fs::path& file : table::table_files(job.input)) {
    const FileStat st = stat_regular_file(file);
    input.size += st.size;
    input.mtime_ns = std::max(input.mtime_ns, st.mtime_ns);
  }
  nlohmann::ordered_json j = {
      {"manifest", 2},  // 2: rows naming an earlier row's file copy its result
      {"input", fs::absolute(job.input).string()},
      {"input_size", input.size},
      {"input_mtime_ns", input.mtime_ns},
      {"rows", rows},
      {"chunk_rows", job.chunk_rows},
      {"encoder", nlohmann::json::parse(fingerprint.to_json())},
      {"path_base", base.string()},
      {"exif", job.decode.apply_exif_orientation},
      {"shrink_on_load", job.shrink_on_load},
      {"max_pixels", job.decode.max_pixels},
      {"reuse_source", reuse_source},
      {"reuse_by_content", job.reuse_by_content},
  };
  // fp32 vectors do not depend on the batch or the thread count (EmbedEndToEnd tests it bit for
  // bit), so finished chunks hold for any; bf16 ones do (the kernels pick other blockings and
  // accumulation orders), so a resume needs the same batch_size and threads.
  if (fingerprint.compute_dtype != "fp32") {
    j["batch_size"] = job.batch_size;
    j["threads"] = job.threads;
  }
  return j.dump(2) + "\n";
}

std::string source_identity(const fs::path& path) {
  const FileStat st = stat_regular_file(path);
  if (!st.ok) return "";
  return fmt::format("{} {} {}", fs::absolute(path).string(), st.size, st.mtime_ns);
}

fs::path work_folder_for(const fs::path& output) {
  const fs::path absolute = fs::absolute(output);
  return absolute.parent_path() / ("." + absolute.filename().string() + ".deft-partial");
}

fs::path part_path(const fs::path& work, uint64_t chunk) {
  return work / fmt::format("part-{:06}.parquet", chunk);
}
fs::path failed_part_path(const fs::path& work, uint64_t chunk) {
  return work / fmt::format("failed-{:06}.parquet", chunk);
}

std::set<uint64_t> prepare_work_folder(const fs::path& work, const std::string& manifest,
                                       uint64_t chunks, uint64_t chunk_rows) {
  const parallel::Cluster& cluster = parallel::Cluster::get();
  std::error_code ec;
  cluster.agree([&] {  // afterwards, the folder is ready for every rank
    if (!cluster.root()) return;
    const std::string changes = fs::exists(work / "manifest.json", ec)
                                    ? manifest_changes(read_text(work / "manifest.json"), manifest)
                                    : "no earlier run";
    if (changes.empty()) {
      for (const auto& entry : fs::directory_iterator(work)) {  // half-written parts of a kill
        if (entry.path().filename().string().starts_with(".")) fs::remove(entry.path(), ec);
      }
    } else {
      if (fs::exists(work, ec)) {
        log::info("not resuming the earlier run's finished chunks in '{}': {}", work.string(),
                  changes);
      }
      fs::remove_all(work, ec);
      fs::create_directories(work);
      write_file_atomically(work / "manifest.json", manifest);
    }
  });
  std::set<uint64_t> done;
  for (uint64_t c = 0; c < chunks; ++c) {
    if (fs::exists(part_path(work, c), ec)) done.insert(c);
  }
  if (!done.empty()) {
    log::info("resuming: {} of {} chunks of {} rows were finished by an earlier run", done.size(),
              chunks, chunk_rows);
  }
  return done;
}

void assemble(table::Database& db, const EmbedJob& job,
              const model::EncoderFingerprint& fingerprint, size_t dim,
              const table::TableReader& reader, const fs::path& base, const fs::path& work,
              uint64_t chunks, EmbedReport& report) {
  std::error_code ec;

  std::vector<fs::path> parts;
  std::vector<fs::path> failed_parts;
  for (uint64_t c = 0; c < chunks; ++c) {
    DEFT_ASSERT(fs::exists(part_path(work, c), ec), "every chunk has its part");
    parts.push_back(part_path(work, c));
    if (fs::exists(failed_part_path(work, c), ec))
      failed_parts.push_back(failed_part_path(work, c));
    const auto metadata = table::read_kv_metadata(db, parts.back());
    report.embedded += metadata_count(metadata, "deft.part.embedded");
    report.reused += metadata_count(metadata, "deft.part.reused");
    report.failed += metadata_count(metadata, "deft.part.failed");
    report.same_file_rows += metadata_count(metadata, "deft.part.same_file");
  }
  if (parts.empty()) {
    const fs::path empty = part_path(work, 0);
    table::EmbeddingTableWriter(db, reader, empty, dim, {}, true).commit();
    parts.push_back(empty);
  }

  // The output and its sidecar are committed together: a failure before both are complete
  // leaves the previous pair as it was.
  OutputSet outputs;
  const fs::path failed = failed_path_for(job.output);
  if (!failed_parts.empty()) {
    table::concatenate_parquet(db, failed_parts, failed, {.output_set = &outputs});
    report.failed_path = failed;
  } else {
    outputs.remove_on_commit(failed);  // from an earlier run: nothing failed this time
  }
  table::WriterOptions options;
  options.row_group_rows = table::embedding_row_group_rows(dim);
  options.kv_metadata = {
      {model::kFingerprintKey, fingerprint.to_json()},
      {table::kPathBaseKey, base.string()},
      {"deft.input", fs::absolute(job.input).string()},
      {"deft.rows_in", std::to_string(report.rows_in)},
      {"deft.embedded", std::to_string(report.embedded)},
      {"deft.reused", std::to_string(report.reused)},
      {"deft.failures", std::to_string(report.failed)},
      {"deft.same_file_rows", std::to_string(report.same_file_rows)},
  };
  options.output_set = &outputs;
  table::concatenate_parquet(db, parts, job.output, options);
  outputs.commit();
  fs::remove_all(work, ec);
}

}  // namespace deft::embed
