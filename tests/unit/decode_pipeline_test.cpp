// The decode pipeline of `deft embed` in-process (src/embed/decode_pipeline.h): chunks come in
// input order with every row's outcome at its place, finished chunks are skipped, a consumer
// that stops early does not hang, and a reader failure midway reaches the consumer.
#include "embed/decode_pipeline.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "image_writer.h"
#include "test_support.h"

namespace deft::embed {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  testing::ScratchDir dir;
  table::Database db;
  EmbedJob job;
  std::unique_ptr<Embedder> embedder = make_thumbnail_embedder();

  // `rows` rows: image i exists for i % 5 != 3 (every fifth is missing).
  explicit Fixture(int rows) {
    std::string csv = "filepath\n";
    for (int i = 0; i < rows; ++i) {
      const std::string name = fmt::format("img{:03}.png", i);
      if (i % 5 != 3) testing::write_image(dir / name, 20 + i % 7, 16, 3, static_cast<unsigned>(i));
      csv += name + "\n";
    }
    testing::write_text_file(dir / "t.csv", csv);
    job.input = dir / "t.csv";
    job.batch_size = 3;
    job.chunk_rows = 7;
  }
};

using State = RowResult::State;

TEST(DecodePipeline, ChunksComeInOrderWithEveryRowAtItsPlaceAndFinishedOnesSkipped) {
  Fixture f(30);
  table::TableReader reader(f.db, f.job.input);
  const SameFileRows same = SameFileRows::find(f.db, f.job.input, f.dir.path());
  const std::set<uint64_t> done = {1, 3};  // chunks finished earlier: rows 7–13 and 21–27
  Pipeline pipeline(f.job, *f.embedder, nullptr, reader, f.dir.path(), done, same, 3);
  std::vector<uint64_t> chunks;
  std::vector<std::string> seen;
  while (auto chunk = pipeline.next_chunk()) {
    chunks.push_back(chunk->index);
    EXPECT_EQ(chunk->first_row, chunk->index * 7);
    for (size_t pos = 0; pos < chunk->rows.size(); ++pos) {
      const RowResult& r = pipeline.wait_row(*chunk, pos);
      const uint64_t row = chunk->first_row + pos;
      EXPECT_EQ(chunk->rows[pos].filepath, fmt::format("img{:03}.png", row));
      if (row % 5 == 3) {
        EXPECT_EQ(r.state, State::kFailed) << row;
        EXPECT_THAT(r.failure, ::testing::StartsWith("no such file: ")) << row;
      } else {
        EXPECT_EQ(r.state, State::kEmbed) << row;
        EXPECT_EQ(r.input.size(), f.embedder->input_floats());
      }
      seen.push_back(chunk->rows[pos].filepath);
      pipeline.release_row();
    }
  }
  EXPECT_EQ(chunks, (std::vector<uint64_t>{0, 2, 4}));
  EXPECT_EQ(seen.size(), 7U + 7U + 2U);  // rows 0–6, 14–20, 28–29
}

TEST(DecodePipeline, AConsumerThatStopsEarlyDoesNotHang) {
  Fixture f(200);
  table::TableReader reader(f.db, f.job.input);
  const SameFileRows same = SameFileRows::find(f.db, f.job.input, f.dir.path());
  {
    Pipeline pipeline(f.job, *f.embedder, nullptr, reader, f.dir.path(), {}, same, 2);
    auto chunk = pipeline.next_chunk();
    ASSERT_NE(chunk, nullptr);
    pipeline.wait_row(*chunk, 0);
    pipeline.release_row();
    // Destroyed here with most rows unread, workers waiting on permits and the reader waiting
    // for room: the destructor stops and joins them all.
  }
  SUCCEED();
}

TEST(DecodePipeline, AReaderFailureMidwayReachesTheConsumer) {
  testing::ScratchDir dir;
  table::Database db;
  // 30,000 rows with an integer `size` column; a row far past the CSV sniffer's sample breaks
  // the type, so the failure comes while streaming, not when the table is opened.
  std::string csv = "filepath,size\n";
  for (int i = 0; i < 30000; ++i)
    csv += fmt::format("x{}.png,{}\n", i, i == 29000 ? std::string("big") : std::to_string(i));
  testing::write_text_file(dir / "t.csv", csv);
  EmbedJob job;
  job.input = dir / "t.csv";
  job.chunk_rows = 4096;
  const auto embedder = make_thumbnail_embedder();
  table::TableReader reader(db, job.input);
  const SameFileRows same;
  Pipeline pipeline(job, *embedder, nullptr, reader, dir.path(), {}, same, 2);
  bool failed = false;
  try {
    while (auto chunk = pipeline.next_chunk()) {
      for (size_t pos = 0; pos < chunk->rows.size(); ++pos) {
        pipeline.wait_row(*chunk, pos);
        pipeline.release_row();
      }
    }
  } catch (const Error& e) {
    failed = true;
    EXPECT_THAT(e.what(), ::testing::HasSubstr("t.csv"));
  }
  EXPECT_TRUE(failed) << "the reader's failure was not passed on";
}

}  // namespace
}  // namespace deft::embed
