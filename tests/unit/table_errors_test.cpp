// Bad tables give one clear error naming the culprit, and a failed write leaves nothing behind.
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "table/embedding_table.h"
#include "table/table_reader.h"
#include "test_support.h"

namespace deft {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::quoted;
using testing::ScratchDir;
using testing::sql_exec;

// Runs `f`, expects a deft::Error of `kind`, returns its message.
template <typename F>
std::string error_of(F&& f, ErrorKind kind) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no deft::Error thrown";
  return {};
}

TEST(TableErrors, MissingFileIsNamed) {
  ScratchDir dir;
  table::Database db;
  const std::string message =
      error_of([&] { table::TableReader(db, dir / "nope.parquet"); }, ErrorKind::kInput);
  EXPECT_THAT(message, AllOf(HasSubstr("nope.parquet"), HasSubstr("not found")));
}

TEST(TableErrors, MissingFilepathColumnListsTheColumnsThatExist) {
  ScratchDir dir;
  table::Database db;
  sql_exec(db, "COPY (SELECT 'a.jpg' AS path, 1 AS label) TO " + quoted(dir / "t.parquet") +
                   " (FORMAT parquet)");
  const std::string message =
      error_of([&] { table::TableReader(db, dir / "t.parquet"); }, ErrorKind::kInput);
  EXPECT_THAT(message, AllOf(HasSubstr("t.parquet"), HasSubstr("no column 'filepath'"),
                             HasSubstr("path (VARCHAR), label (INTEGER)")));

  testing::write_text_file(dir / "t.csv", "image,label\na.jpg,1\n");
  EXPECT_THAT(error_of([&] { table::TableReader(db, dir / "t.csv"); }, ErrorKind::kInput),
              AllOf(HasSubstr("CSV table"), HasSubstr("t.csv"), HasSubstr("image (VARCHAR)")));
}

TEST(TableErrors, FilepathMustBeText) {
  ScratchDir dir;
  table::Database db;
  sql_exec(db, "COPY (SELECT 1 AS filepath) TO " + quoted(dir / "t.parquet") + " (FORMAT parquet)");
  EXPECT_THAT(error_of([&] { table::TableReader(db, dir / "t.parquet"); }, ErrorKind::kInput),
              HasSubstr("column 'filepath' in '" + (dir / "t.parquet").string() + "' is INTEGER"));
}

TEST(TableErrors, MissingRequestedColumnIsNamed) {
  ScratchDir dir;
  table::Database db;
  sql_exec(db,
           "COPY (SELECT 'a' AS filepath) TO " + quoted(dir / "t.parquet") + " (FORMAT parquet)");
  EXPECT_THAT(error_of(
                  [&] {
                    table::TableReader(db, dir / "t.parquet", {.columns = {"filepath", "vec"}});
                  },
                  ErrorKind::kInput),
              AllOf(HasSubstr("no column 'vec'"), HasSubstr("filepath (VARCHAR)")));
}

TEST(TableErrors, CorruptParquetIsAnInputErrorNamingTheFile) {
  ScratchDir dir;
  table::Database db;
  testing::write_text_file(dir / "bad.parquet", "PAR1 this is not really parquet");
  EXPECT_THAT(error_of([&] { table::TableReader(db, dir / "bad.parquet"); }, ErrorKind::kInput),
              HasSubstr("bad.parquet"));

  // A truncated real file: the footer is gone.
  sql_exec(db, "COPY (SELECT 'a' || i AS filepath FROM range(100) t(i)) TO " +
                   quoted(dir / "full.parquet") + " (FORMAT parquet)");
  const std::string bytes = testing::read_text_file(dir / "full.parquet");
  testing::write_text_file(dir / "cut.parquet", bytes.substr(0, bytes.size() / 2));
  EXPECT_THAT(error_of([&] { table::TableReader(db, dir / "cut.parquet"); }, ErrorKind::kInput),
              HasSubstr("cut.parquet"));
}

TEST(TableErrors, FailedWriteLeavesNoFileAndKeepsAnOldOne) {
  ScratchDir dir;
  table::Database db;
  sql_exec(db, "COPY (SELECT 'img' || i AS filepath FROM range(10000) t(i)) TO " +
                   quoted(dir / "in.parquet") + " (FORMAT parquet)");
  const fs::path out = dir / "out.parquet";
  const fs::path kept = dir / "kept.parquet";
  testing::write_text_file(kept, "the result of an earlier run");

  for (const fs::path& target : {out, kept}) {
    // The stage producing embeddings fails after some chunks have been written.
    EXPECT_THROW(
        {
          table::TableReader reader(db, dir / "in.parquet");
          table::EmbeddingTableWriter writer(db, reader, target, 4);
          int chunks = 0;
          while (table::DataChunk chunk = reader.next_chunk()) {
            if (++chunks == 3) throw std::runtime_error("encoder failed");
            const idx_t n = duckdb_data_chunk_get_size(chunk.get());
            std::vector<idx_t> rows(n);
            for (idx_t i = 0; i < n; ++i)
              rows[i] = i;
            writer.append(chunk, rows, std::vector<float>(n * 4, 1.0F));
          }
          writer.commit();
        },
        std::runtime_error);
  }
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(testing::read_text_file(kept), "the result of an earlier run");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"in.parquet", "kept.parquet"}));
}

TEST(TableErrors, OutputThatIsADirectoryIsRefused) {
  ScratchDir dir;
  table::Database db;
  sql_exec(db,
           "COPY (SELECT 'a' AS filepath) TO " + quoted(dir / "in.parquet") + " (FORMAT parquet)");
  fs::create_directory(dir / "out.parquet");
  table::TableReader reader(db, dir / "in.parquet");
  EXPECT_THAT(error_of([&] { table::EmbeddingTableWriter(db, reader, dir / "out.parquet", 4); },
                       ErrorKind::kUsage),
              HasSubstr("is an existing directory"));
}

TEST(TableErrors, BadEmbeddingRowsAreNamed) {
  ScratchDir dir;
  table::Database db;
  sql_exec(db,
           "COPY (SELECT * FROM (VALUES ('a', [1.0, 2.0]::FLOAT[]), ('b', NULL), "
           "('c', [1.0]::FLOAT[])) v(filepath, embedding)) TO " +
               quoted(dir / "e.parquet") + " (FORMAT parquet)");
  sql_exec(db, "COPY (SELECT 'a' AS filepath, ['x'] AS embedding) TO " + quoted(dir / "s.parquet") +
                   " (FORMAT parquet)");

  auto read_all = [&](const fs::path& path) {
    table::TableReader reader(db, path, {.columns = {"embedding"}});
    size_t dim = 0;
    std::vector<float> values;
    while (table::DataChunk chunk = reader.next_chunk()) {
      table::append_float_rows(duckdb_data_chunk_get_vector(chunk.get(), 0), reader.column_type(0),
                               duckdb_data_chunk_get_size(chunk.get()), 0, path.filename().string(),
                               dim, values);
    }
  };
  EXPECT_THAT(error_of([&] { read_all(dir / "e.parquet"); }, ErrorKind::kInput),
              AllOf(HasSubstr("e.parquet"), HasSubstr("row 1 has no embedding (NULL)")));
  EXPECT_THAT(error_of([&] { read_all(dir / "s.parquet"); }, ErrorKind::kInput),
              AllOf(HasSubstr("s.parquet"), HasSubstr("lists or arrays of FLOAT or DOUBLE")));

  sql_exec(db,
           "COPY (SELECT * FROM (VALUES ('a', [1.0, 2.0]::FLOAT[]), ('c', [1.0]::FLOAT[])) "
           "v(filepath, embedding)) TO " +
               quoted(dir / "l.parquet") + " (FORMAT parquet)");
  EXPECT_THAT(error_of([&] { read_all(dir / "l.parquet"); }, ErrorKind::kInput),
              HasSubstr("row 1 has an embedding of length 1, expected 2"));
}

}  // namespace
}  // namespace deft

namespace deft {
namespace {

// A file whose footer is fine but whose data is damaged midway must fail loudly, never end
// early as if it were shorter.
TEST(TableErrors, DamageInTheMiddleOfAFileIsAnErrorNotATruncation) {
  testing::ScratchDir dir;
  table::Database db;
  const auto path = dir / "damaged.parquet";
  testing::sql_exec(db,
                    "COPY (SELECT 'img/' || i || '.jpg' AS filepath, (i % 7)::INTEGER AS k FROM "
                    "range(100000) t(i)) TO " +
                        testing::quoted(path) +
                        " (FORMAT parquet, ROW_GROUP_SIZE 10000, COMPRESSION zstd)");
  std::string bytes = testing::read_text_file(path);
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 4096; ++i)
    bytes[i] = static_cast<char>(i * 31);
  testing::write_text_file(path, bytes);

  uint64_t rows = 0;
  const std::string message = error_of(
      [&] {
        table::TableReader reader(db, path);
        while (table::DataChunk chunk = reader.next_chunk())
          rows = reader.rows_read();
      },
      ErrorKind::kInput);
  EXPECT_THAT(message, HasSubstr("damaged.parquet"));
  EXPECT_LT(rows, 100000U);
}

}  // namespace
}  // namespace deft
