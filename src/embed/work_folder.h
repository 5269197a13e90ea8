#pragma once
// The resumable work folder of `deft embed`: `.<output name>.deft-partial/` beside the output,
// holding a manifest of everything that shapes the output and one part file per finished
// chunk of chunk_rows rows (and its failures). A run started again under the same manifest
// keeps the finished parts; on success they are assembled into the output (with its failures
// sidecar, as one output set) and the folder is removed.
//
//   const std::string manifest = make_manifest(job, fingerprint, base, rows, reuse_identity);
//   std::set<uint64_t> done = prepare_work_folder(work, manifest, chunks, job.chunk_rows);
//   ... each chunk: its part_path(work, c) and failed_part_path(work, c) ...
//   assemble(db, job, fingerprint, dim, reader, base, work, chunks, report);

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>

#include "embed/embed_job.h"
#include "model/fingerprint.h"
#include "table/duckdb_handles.h"
#include "table/table_reader.h"

namespace deft::embed {

// Everything that decides the output: a partial run resumes only under the same manifest.
std::string make_manifest(const EmbedJob& job, const model::EncoderFingerprint& fingerprint,
                          const std::filesystem::path& base, uint64_t rows,
                          const std::string& reuse_source);

// What identifies a file for the manifest: absolute path, size, mtime ("" when absent).
std::string source_identity(const std::filesystem::path& path);

// The work folder of `output`: `.<output name>.deft-partial/` beside it.
std::filesystem::path work_folder_for(const std::filesystem::path& output);
std::filesystem::path part_path(const std::filesystem::path& work, uint64_t chunk);
std::filesystem::path failed_part_path(const std::filesystem::path& work, uint64_t chunk);

// Keeps the folder's finished parts when its manifest matches (removing half-written files of
// a kill), else starts it afresh, saying which settings changed. Under mpirun rank 0 does it
// and every rank waits. Returns the finished chunks.
std::set<uint64_t> prepare_work_folder(const std::filesystem::path& work,
                                       const std::string& manifest, uint64_t chunks,
                                       uint64_t chunk_rows);

// Every chunk's part, in order, into the output and the failures sidecar (one output set),
// with the run's counts in the key-value metadata; then removes the folder.
void assemble(table::Database& db, const EmbedJob& job,
              const model::EncoderFingerprint& fingerprint, size_t dim,
              const table::TableReader& reader, const std::filesystem::path& base,
              const std::filesystem::path& work, uint64_t chunks, EmbedReport& report);

}  // namespace deft::embed
