#include "table/embedding_table.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "table/vector_access.h"

namespace deft::table {
namespace {

LogicalType embedding_type() {
  LogicalType element(duckdb_create_logical_type(DUCKDB_TYPE_FLOAT));
  return LogicalType(duckdb_create_list_type(element.get()));
}

LogicalType identity_type() {
  LogicalType size(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
  LogicalType mtime(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
  LogicalType digest(duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR));
  duckdb_logical_type members[] = {size.get(), mtime.get(), digest.get()};
  const char* names[] = {"size", "mtime_ns", "xxh3_128"};
  return LogicalType(duckdb_create_struct_type(members, names, 3));
}

void write_identities(duckdb_vector vector, std::span<const FileIdentity> identities) {
  auto* sizes =
      static_cast<int64_t*>(duckdb_vector_get_data(duckdb_struct_vector_get_child(vector, 0)));
  auto* mtimes =
      static_cast<int64_t*>(duckdb_vector_get_data(duckdb_struct_vector_get_child(vector, 1)));
  duckdb_vector digests = duckdb_struct_vector_get_child(vector, 2);
  for (size_t i = 0; i < identities.size(); ++i) {
    sizes[i] = identities[i].size;
    mtimes[i] = identities[i].mtime_ns;
    duckdb_vector_assign_string_element_len(digests, i, identities[i].xxh3_128.data(),
                                            identities[i].xxh3_128.size());
  }
}

// Row groups are buffered whole while writing: cap them by bytes, not rows, so memory stays
// bounded for wide embeddings (DuckDB's default of 122,880 rows × 768 floats is 377 MB).
constexpr uint64_t kRowGroupEmbeddingBytes = 16ULL << 20;
constexpr uint64_t kMinRowGroupRows = 2048;
constexpr uint64_t kMaxRowGroupRows = 122880;

WriterOptions with_row_group_size(WriterOptions options, size_t dim) {
  if (options.row_group_rows == 0 && dim > 0)
    options.row_group_rows = embedding_row_group_rows(dim);
  return options;
}

}  // namespace

uint64_t embedding_row_group_rows(size_t dim) {
  const uint64_t rows = kRowGroupEmbeddingBytes / (std::max<size_t>(dim, 1) * sizeof(float));
  return std::clamp(rows / kMinRowGroupRows * kMinRowGroupRows, kMinRowGroupRows, kMaxRowGroupRows);
}

namespace {

std::string type_error(std::string_view where) {
  return fmt::format(
      "{}: the embedding column must hold lists or arrays of FLOAT or DOUBLE (FLOAT[], "
      "DOUBLE[], FLOAT[n], DOUBLE[n])",
      where);
}

}  // namespace

namespace {

// Each output column's source: an input column's index, kEmbedding or kIdentity. The embedding
// (and identity) column replaces an input column of its name in place, else goes last.
std::vector<size_t> column_sources(const TableReader& input, bool with_identity, size_t embedding,
                                   size_t identity) {
  std::vector<size_t> sources;
  const auto position = [&](const char* name) { return input.find_column(name); };
  const auto embedding_at = position(kEmbeddingColumn);
  const auto identity_at = with_identity ? position(kFileIdentityColumn) : std::nullopt;
  for (size_t i = 0; i < input.columns().size(); ++i) {
    if (embedding_at == i) {
      sources.push_back(embedding);
    } else if (identity_at == i) {
      sources.push_back(identity);
    } else {
      sources.push_back(i);
    }
  }
  if (!embedding_at) sources.push_back(embedding);
  if (with_identity && !identity_at) sources.push_back(identity);
  return sources;
}

std::vector<OutputColumn> output_columns(const TableReader& input,
                                         const std::vector<size_t>& sources, size_t embedding) {
  std::vector<OutputColumn> columns;
  for (size_t source : sources) {
    if (source == embedding) {
      columns.push_back({kEmbeddingColumn, embedding_type()});
    } else if (source < input.columns().size()) {
      columns.push_back({input.columns()[source].name, input.column_type_copy(source)});
    } else {
      columns.push_back({kFileIdentityColumn, identity_type()});
    }
  }
  return columns;
}

size_t index_of(const std::vector<size_t>& sources, size_t source) {
  return static_cast<size_t>(std::find(sources.begin(), sources.end(), source) - sources.begin());
}

}  // namespace

EmbeddingTableWriter::EmbeddingTableWriter(Database& db, const TableReader& input,
                                           std::filesystem::path output, size_t dim,
                                           WriterOptions options, bool with_file_identity)
    : sources_(column_sources(input, with_file_identity, kEmbedding, kIdentity)),
      embedding_column_(index_of(sources_, kEmbedding)),
      identity_column_(with_file_identity ? index_of(sources_, kIdentity) : kIdentity),
      dim_(dim),
      writer_(db, std::move(output), output_columns(input, sources_, kEmbedding),
              with_row_group_size(std::move(options), dim)) {
  DEFT_ASSERT(dim_ > 0, "embedding dimension must be positive");
}

void EmbeddingTableWriter::append(const DataChunk& input_chunk, std::span<const idx_t> rows,
                                  std::span<const float> embeddings,
                                  std::span<const FileIdentity> identities) {
  DEFT_ASSERT(embeddings.size() == rows.size() * dim_, "embeddings must be rows × dim floats");
  DEFT_ASSERT(identities.size() == (identity_column_ == kIdentity ? 0 : rows.size()),
              "one file identity per row when the writer records them");
  const idx_t input_rows = duckdb_data_chunk_get_size(input_chunk.get());
  if (rows.empty()) return;

  std::vector<duckdb_logical_type> types;
  for (const OutputColumn& c : writer_.columns())
    types.push_back(c.type.get());
  DataChunk out(duckdb_create_data_chunk(types.data(), types.size()));

  // Carried columns: shared with the input chunk, sliced when some rows were left out.
  const bool all_rows = rows.size() == input_rows;
  SelectionVector selection(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    DEFT_ASSERT(rows[i] < input_rows && (i == 0 || rows[i] > rows[i - 1]),
                "rows must be ascending indices into the chunk");
    selection.data()[i] = static_cast<sel_t>(rows[i]);
  }
  for (size_t c = 0; c < sources_.size(); ++c) {
    if (sources_[c] == kEmbedding || sources_[c] == kIdentity) continue;
    duckdb_vector target = duckdb_data_chunk_get_vector(out.get(), c);
    duckdb_vector_reference_vector(target,
                                   duckdb_data_chunk_get_vector(input_chunk.get(), sources_[c]));
    if (!all_rows) duckdb_slice_vector(target, selection.get(), rows.size());
  }

  duckdb_vector list = duckdb_data_chunk_get_vector(out.get(), embedding_column_);
  const idx_t values = rows.size() * dim_;
  if (duckdb_list_vector_reserve(list, values) == DuckDBError ||
      duckdb_list_vector_set_size(list, values) == DuckDBError) {
    throw Error(ErrorKind::kRun, "cannot allocate the embedding column");
  }
  auto* floats = static_cast<float*>(duckdb_vector_get_data(duckdb_list_vector_get_child(list)));
  std::memcpy(floats, embeddings.data(), values * sizeof(float));
  auto* entries = static_cast<duckdb_list_entry*>(duckdb_vector_get_data(list));
  for (size_t i = 0; i < rows.size(); ++i)
    entries[i] = {i * dim_, dim_};

  if (identity_column_ != kIdentity) {
    write_identities(duckdb_data_chunk_get_vector(out.get(), identity_column_), identities);
  }
  duckdb_data_chunk_set_size(out.get(), rows.size());
  writer_.append(std::move(out));
}

namespace {

// Hands row i's values to sink(i, floats, doubles) (one of the two set, `dim` values) after
// checking every row: not NULL, `dim` long (0: taken from the first row, then set). Errors
// name `where` and row_number(i).
template <typename RowNumber, typename Sink>
void visit_float_rows(duckdb_vector vector, duckdb_logical_type type, idx_t count,
                      const RowNumber& row_number, std::string_view where, size_t& dim,
                      const Sink& sink) {
  const duckdb_type id = duckdb_get_type_id(type);
  if (id != DUCKDB_TYPE_LIST && id != DUCKDB_TYPE_ARRAY) {
    throw Error(ErrorKind::kInput, type_error(where));
  }
  LogicalType child(id == DUCKDB_TYPE_LIST ? duckdb_list_type_child_type(type)
                                           : duckdb_array_type_child_type(type));
  const duckdb_type element = duckdb_get_type_id(child.get());
  if (element != DUCKDB_TYPE_FLOAT && element != DUCKDB_TYPE_DOUBLE) {
    throw Error(ErrorKind::kInput, type_error(where));
  }
  const auto row_length_error = [&](idx_t row, size_t length) {
    return Error(ErrorKind::kInput,
                 fmt::format("{}: row {} has an embedding of length {}, expected {}", where,
                             row_number(row), length, dim),
                 "every embedding in a file must have the same length (one encoder per file)");
  };
  for (idx_t row = 0; row < count; ++row) {
    if (!is_valid(vector, row)) {
      throw Error(ErrorKind::kInput,
                  fmt::format("{}: row {} has no embedding (NULL)", where, row_number(row)));
    }
  }
  // The reference's pandas writes float64 lists: narrowed to float32 for the search (distances
  // are still computed in double from these values).
  const auto emit = [&](idx_t row, const void* values, size_t offset) {
    if (element == DUCKDB_TYPE_FLOAT) {
      sink(row, static_cast<const float*>(values) + offset, nullptr);
    } else {
      sink(row, nullptr, static_cast<const double*>(values) + offset);
    }
  };
  if (id == DUCKDB_TYPE_ARRAY) {
    const size_t length = duckdb_array_type_array_size(type);
    if (dim == 0) dim = length;
    if (length != dim || dim == 0) throw row_length_error(0, length);
    const void* data = duckdb_vector_get_data(duckdb_array_vector_get_child(vector));
    for (idx_t row = 0; row < count; ++row)
      emit(row, data, row * dim);
    return;
  }
  const auto* entries = static_cast<const duckdb_list_entry*>(duckdb_vector_get_data(vector));
  const void* data = duckdb_vector_get_data(duckdb_list_vector_get_child(vector));
  for (idx_t row = 0; row < count; ++row) {
    const duckdb_list_entry entry = entries[row];
    if (dim == 0) dim = entry.length;
    if (entry.length != dim || dim == 0) throw row_length_error(row, entry.length);
    emit(row, data, entry.offset);
  }
}

void copy_row(const float* floats, const double* doubles, size_t dim, float* out) {
  if (floats != nullptr) {
    std::memcpy(out, floats, dim * sizeof(float));
    return;
  }
  for (size_t k = 0; k < dim; ++k)
    out[k] = static_cast<float>(doubles[k]);
}

}  // namespace

void append_float_rows(duckdb_vector vector, duckdb_logical_type type, idx_t count,
                       uint64_t first_row, std::string_view where, size_t& dim,
                       std::vector<float>& out) {
  visit_float_rows(
      vector, type, count, [&](idx_t row) { return first_row + row; }, where, dim,
      [&](idx_t, const float* floats, const double* doubles) {
        if (floats != nullptr) {  // appended as they are, not zero-filled first
          out.insert(out.end(), floats, floats + dim);
          return;
        }
        const size_t at = out.size();
        out.resize(at + dim);
        copy_row(floats, doubles, dim, out.data() + at);
      });
}

void place_float_rows(duckdb_vector vector, duckdb_logical_type type, idx_t count,
                      const int64_t* row_numbers, uint64_t first_row, std::string_view where,
                      size_t dim, float* out) {
  DEFT_ASSERT(dim > 0, "the dimension is known before rows are placed");
  size_t expected = dim;
  visit_float_rows(
      vector, type, count, [&](idx_t row) { return row_numbers[row]; }, where, expected,
      [&](idx_t row, const float* floats, const double* doubles) {
        const auto slot = static_cast<uint64_t>(row_numbers[row]) - first_row;
        copy_row(floats, doubles, dim, out + slot * dim);
      });
}

}  // namespace deft::table
