#pragma once
// The encoder an embedding table records (its deft.encoder fingerprint), read from the
// table's key-value metadata: one parquet file, or every file of a table folder.
//
//   table::Database db;
//   if (auto f = table::recorded_encoder(db, "pool_emb.parquet")) log::info("{}",
//   model::describe(*f));

#include <filesystem>
#include <optional>

#include "model/fingerprint.h"
#include "table/duckdb_handles.h"

namespace deft::table {

// nullopt for a CSV table or a parquet without a fingerprint. Throws Error(kInput) naming the
// file when a fingerprint is malformed, and naming both files when a table folder's files
// record different encoders (a folder must hold the parts of one embedding run).
std::optional<model::EncoderFingerprint> recorded_encoder(Database& db,
                                                          const std::filesystem::path& table);

// The same, for a description that may not exist yet or be unreadable (the mining report
// describes what it can): nullopt instead of an error.
std::optional<model::EncoderFingerprint> recorded_encoder_if_readable(
    const std::filesystem::path& table);

}  // namespace deft::table
