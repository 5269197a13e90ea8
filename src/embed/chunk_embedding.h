#pragma once
// One chunk of `deft embed`, from the pipeline's prepared rows to its part files: the rows are
// embedded in batches of batch_size, in order; rows naming an earlier row's file get that
// row's result; failures (with their reasons, in input order) go to the chunk's failures part;
// the embedding part, written last, is what marks the chunk finished.
//
//   SharedResults shared;   // across the chunks of one run
//   ChunkCounts c = embed_chunk(db, job, embedder, reuse, reader, pipeline, *chunk, work,
//                               same_file, shared, progress);

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "embed/decode_pipeline.h"
#include "embed/embed_job.h"
#include "embed/embedder.h"
#include "embed/reuse_index.h"
#include "embed/same_file_rows.h"
#include "table/duckdb_handles.h"
#include "table/embedding_table.h"

namespace deft {
class Progress;
}

namespace deft::embed {

struct ChunkCounts {
  uint64_t embedded = 0, reused = 0, failed = 0, same_file = 0;
};

// The results of rows whose file later rows name again, kept until the last of them: a vector
// and identity, or the reason the row failed.
struct SharedResult {
  bool failed = false;
  std::vector<float> vector;
  table::FileIdentity identity;
  std::string failure;
  uint64_t uses_left = 0;
};
using SharedResults = std::unordered_map<uint64_t, SharedResult>;

ChunkCounts embed_chunk(table::Database& db, const EmbedJob& job, const Embedder& embedder,
                        const ReuseIndex* reuse, const table::TableReader& reader,
                        Pipeline& pipeline, ChunkWork& chunk, const std::filesystem::path& work,
                        const SameFileRows& same_file, SharedResults& shared, Progress& progress);

}  // namespace deft::embed
