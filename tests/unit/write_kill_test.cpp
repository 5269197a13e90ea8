// A writer process killed with SIGKILL midway leaves nothing at the output path.
// (Own executable: it forks, and the child must start with no DuckDB threads around.)
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "table/embedding_table.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;

bool has_temporary_file(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().ends_with(".deft-tmp")) return true;
  }
  return false;
}

TEST(WriteKill, KilledWriterLeavesNoOutputFile) {
  testing::ScratchDir dir;
  const fs::path in = dir / "pool.parquet";
  const fs::path out = dir / "pool_emb.parquet";
  {
    table::Database db;
    testing::sql_exec(db, "COPY (SELECT 'img' || i AS filepath FROM range(2000000) t(i)) TO " +
                              testing::quoted(in) + " (FORMAT parquet)");
  }

  const pid_t child = ::fork();
  if (child == 0) {
    // Writes 2M × 256 floats (2 GB of column): seconds of work, killed long before the end.
    table::Database db;
    table::TableReader reader(db, in);
    table::EmbeddingTableWriter writer(db, reader, out, 256);
    std::vector<float> vectors(2048 * 256, 0.5F);
    std::vector<idx_t> rows(2048);
    for (idx_t i = 0; i < rows.size(); ++i)
      rows[i] = i;
    while (table::DataChunk chunk = reader.next_chunk()) {
      const idx_t n = duckdb_data_chunk_get_size(chunk.get());
      writer.append(chunk, std::span(rows).first(n), std::span(vectors).first(n * 256));
    }
    writer.commit();
    ::_exit(0);
  }

  // Kill once the temporary file exists and has grown (rows are being written).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool writing = false;
  while (!writing && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (const auto& entry : fs::directory_iterator(dir.path())) {
      if (entry.path().filename().string().ends_with(".deft-tmp") && entry.file_size() > 1000000) {
        writing = true;
      }
    }
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(writing) << "the writer never started writing";
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the writer finished first";

  EXPECT_FALSE(fs::exists(out));
  // What is left is the hidden temporary file, never something at the output path.
  EXPECT_TRUE(has_temporary_file(dir.path()));
}

}  // namespace
}  // namespace deft
