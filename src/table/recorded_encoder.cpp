#include "table/recorded_encoder.h"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "table/parquet_writer.h"
#include "table/table_reader.h"

namespace deft::table {

namespace fs = std::filesystem;

std::optional<model::EncoderFingerprint> recorded_encoder(Database& db, const fs::path& table) {
  if (detect_table_format(table) != TableFormat::kParquet) return std::nullopt;
  const std::vector<fs::path> files = table_files(table);
  std::optional<model::EncoderFingerprint> first;
  for (const fs::path& file : files) {
    const auto f = model::fingerprint_in(read_kv_metadata(db, file), file.string());
    if (file == files.front()) {
      first = f;
    } else if (f.has_value() != first.has_value() || (f && !model::same_embeddings(*f, *first))) {
      throw Error(
          ErrorKind::kInput,
          fmt::format("table folder '{}': '{}' was embedded by another encoder than its "
                      "first file '{}'",
                      table.string(), file.filename().string(), files.front().filename().string()),
          "a table folder must hold the parts of one embedding run");
    }
  }
  return first;
}

std::optional<model::EncoderFingerprint> recorded_encoder_if_readable(const fs::path& table) {
  try {
    std::error_code ec;
    if (!fs::exists(table, ec)) return std::nullopt;
    Database db;
    return recorded_encoder(db, table);
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace deft::table
