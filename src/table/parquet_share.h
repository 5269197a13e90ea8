#pragma once
// Rows [begin, end) of a parquet table (one file, or a folder of parquet files read in name
// order as one table) in blocks that DuckDB's parallel scan places straight into memory
// (parquet_blocks.h), file by file. The next block is read on its own thread while the caller
// uses this one, and the blocks' buffers are handed back to the reader to fill again (fresh
// buffers would be fresh pages to fault in, every block). deft mine's pool stream and deft
// select's pool table read their pools through it.
//
//   table::ParquetShare share(db, "pool/", read_options, columns_of, extra_value,
//                             "embedding", begin, end);
//   std::optional<size_t> dim = share.dimension();          // nullopt: the first row is NULL
//   share.read(*dim, block_rows, /*yield=*/false,
//              [&](Block& b) { normalise(b); },             // on the reading thread
//              [&](Block& b) { search(b); });               // on this one, in row order

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "table/duckdb_handles.h"
#include "table/parquet_blocks.h"
#include "table/table_reader.h"

namespace deft::table {

class ParquetShare {
 public:
  using Block = ParquetBlocks::Block;  // Block::first is in table rows
  // Where a file's columns go, by that file's schema reader (built with `read_options`).
  using ColumnsOf = std::function<ParquetBlocks::Columns(const TableReader& schema)>;

  // `table`: a parquet file or a folder of them (detect_table_format is kParquet).
  // `read_options`: the columns to read (its row range is ignored: [begin, end) rules).
  // `vector_column` names the embedding column in errors, with the file it is in.
  ParquetShare(Database& db, const std::filesystem::path& table, ReadOptions read_options,
               ColumnsOf columns_of, ParquetBlocks::ExtraValue extra_value,
               std::string vector_column, uint64_t begin, uint64_t end);
  ~ParquetShare();
  ParquetShare(const ParquetShare&) = delete;
  ParquetShare& operator=(const ParquetShare&) = delete;

  bool empty() const { return parts_.empty(); }

  // The length of the share's first embedding; nullopt when that row's is NULL or the share is
  // empty. The reader it opens is the one read() starts with.
  std::optional<size_t> dimension();

  struct Timing {
    double reading = 0;  // seconds the reading thread spent in DuckDB
    double waiting = 0;  // seconds the caller waited for a block (reading not hidden)
  };
  using BlockFn = std::function<void(Block&)>;
  // Every row of the share once, in order, in blocks of at most `block_rows` (blocks never span
  // files). `prepare` runs on the reading thread (may be null), `use` on the caller's. `yield`:
  // the reading thread runs at the lowest priority (common/prefetch.h says when that helps).
  // Errors name the file and row; one thrown by either callback stops the reading.
  Timing read(size_t dim, size_t block_rows, bool yield, const BlockFn& prepare,
              const BlockFn& use);

 private:
  struct Part {
    std::filesystem::path file;
    uint64_t offset = 0;          // its row 0 in table rows
    uint64_t begin = 0, end = 0;  // its rows in the share, in file rows
  };
  struct Reader {
    std::unique_ptr<TableReader> schema;
    std::unique_ptr<ParquetBlocks> blocks;
  };
  Reader open(const Part& part) const;

  Database& db_;
  ReadOptions read_options_;
  ColumnsOf columns_of_;
  ParquetBlocks::ExtraValue extra_value_;
  std::string vector_column_;
  std::vector<Part> parts_;
  Reader first_;  // the first part's, once dimension() has opened it
};

}  // namespace deft::table
