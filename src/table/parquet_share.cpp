#include "table/parquet_share.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "common/error.h"
#include "common/prefetch.h"
#include "common/spare_buffers.h"

namespace deft::table {

namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

ParquetShare::ParquetShare(Database& db, const fs::path& table, ReadOptions read_options,
                           ColumnsOf columns_of, ParquetBlocks::ExtraValue extra_value,
                           std::string vector_column, uint64_t begin, uint64_t end)
    : db_(db),
      read_options_(std::move(read_options)),
      columns_of_(std::move(columns_of)),
      extra_value_(std::move(extra_value)),
      vector_column_(std::move(vector_column)) {
  DEFT_ASSERT(detect_table_format(table) == TableFormat::kParquet, "a parquet table");
  read_options_.first_row = 0;
  read_options_.end_row = UINT64_MAX;
  if (begin >= end) return;
  // Each file's rows in the share, and where its row 0 is in the table: the footers tell.
  uint64_t offset = 0;
  for (const fs::path& file : table_files(table)) {
    if (offset >= end) break;
    const uint64_t rows = TableReader(db_, file, read_options_).count_rows();
    const uint64_t from = std::max(begin, offset), to = std::min(end, offset + rows);
    if (from < to) parts_.push_back({file, offset, from - offset, to - offset});
    offset += rows;
  }
  // The caller counted the rows earlier (every rank agrees on the shares from that count): a
  // table that now ends before the share does was changed in between.
  if (offset < end) {
    throw Error(ErrorKind::kInput,
                fmt::format("'{}' changed while deft was reading it: it now has {} rows, row {} "
                            "is gone",
                            table.string(), offset, offset),
                "rerun once nothing else writes the table");
  }
}

ParquetShare::~ParquetShare() = default;

ParquetShare::Reader ParquetShare::open(const Part& part) const {
  Reader reader;
  reader.schema = std::make_unique<TableReader>(db_, part.file, read_options_);
  reader.blocks = std::make_unique<ParquetBlocks>(
      db_, *reader.schema, columns_of_(*reader.schema), extra_value_,
      fmt::format("'{}' column '{}'", part.file.string(), vector_column_));
  return reader;
}

std::optional<size_t> ParquetShare::dimension() {
  if (parts_.empty()) return std::nullopt;
  if (!first_.blocks) first_ = open(parts_.front());
  return first_.blocks->dimension_at(parts_.front().begin);
}

ParquetShare::Timing ParquetShare::read(size_t dim, size_t block_rows, bool yield,
                                        const BlockFn& prepare, const BlockFn& use) {
  DEFT_ASSERT(dim > 0 && block_rows > 0, "blocks of some rows of some dimension");
  Timing timing;
  SpareBuffers<Block> spare;  // blocks used, for the reader to fill again
  Prefetch<Block> ahead(
      1,
      [&](const Prefetch<Block>::Give& give) {
        for (size_t p = 0; p < parts_.size(); ++p) {
          const Part& part = parts_[p];
          // The first part's reader is the one dimension() opened, when it did.
          Reader reader = p == 0 && first_.blocks ? std::move(first_) : open(part);
          for (uint64_t first = part.begin; first < part.end; first += block_rows) {
            Block block = spare.take();
            const auto t0 = std::chrono::steady_clock::now();
            reader.blocks->read(first, std::min<uint64_t>(block_rows, part.end - first), dim,
                                block);
            timing.reading += seconds_since(t0);
            block.first += part.offset;  // file rows → table rows
            if (prepare) prepare(block);
            if (!give(std::move(block))) return;
          }
        }
      },
      yield);
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<Block> block = ahead.next();
    timing.waiting += seconds_since(t0);
    if (!block) break;
    use(*block);
    spare.give_back(std::move(*block));
  }
  return timing;
}

}  // namespace deft::table
