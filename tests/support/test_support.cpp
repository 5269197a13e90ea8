#include "test_support.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "table/vector_access.h"

namespace deft::testing {

namespace fs = std::filesystem;

ScratchDir::ScratchDir() {
  std::string pattern = (fs::temp_directory_path() / "deft-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (std::getenv("DEFT_TEST_KEEP") == nullptr) fs::remove_all(path_, ec);  // kept to look at
}

std::vector<std::string> ScratchDir::entries() const {
  return directory_entries(path_);
}

std::vector<std::string> directory_entries(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void split_parquet(table::Database& db, const fs::path& parquet, const fs::path& folder,
                   uint64_t parts) {
  fs::create_directories(folder);
  const uint64_t rows = std::stoull(sql_rows(db, "SELECT count(*) FROM " + quoted(parquet))[0][0]);
  for (uint64_t k = 0; k < parts; ++k) {
    sql_exec(db, "COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet(" + quoted(parquet) +
                     ", file_row_number = true) WHERE file_row_number >= " +
                     std::to_string(k * rows / parts) + " AND file_row_number < " +
                     std::to_string((k + 1) * rows / parts) + " ORDER BY file_row_number) TO " +
                     quoted(folder / ("part-" + std::to_string(k) + ".parquet")) +
                     " (FORMAT parquet)");
  }
}

std::vector<std::string> parquet_column(table::Database& db, const fs::path& parquet,
                                        const std::string& expression) {
  std::vector<std::string> out;
  for (const auto& row :
       sql_rows(db, "SELECT " + expression + " FROM read_parquet(" + quoted(parquet) + ")"))
    out.push_back(row[0]);
  return out;
}

std::string summary_value(const fs::path& summary_file, const std::string& key) {
  std::istringstream in(read_text_file(summary_file));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ": ", 0) == 0) return line.substr(key.size() + 2);
  }
  return "(no " + key + ")";
}

std::vector<std::vector<std::string>> sql_rows(table::Database& db, const std::string& sql) {
  table::Connection con(db);
  // Render every column as text inside DuckDB, so the test compares plain strings.
  table::Result result =
      con.query("SELECT COLUMNS(*)::VARCHAR FROM (" + sql + ")", "test query", ErrorKind::kRun);
  std::vector<std::vector<std::string>> rows;
  const idx_t columns = result.column_count();
  while (table::DataChunk chunk = result.fetch_chunk()) {
    for (idx_t row = 0; row < duckdb_data_chunk_get_size(chunk.get()); ++row) {
      std::vector<std::string> values;
      for (idx_t c = 0; c < columns; ++c) {
        duckdb_vector v = duckdb_data_chunk_get_vector(chunk.get(), c);
        values.push_back(table::is_valid(v, row) ? std::string(table::string_at(v, row)) : "NULL");
      }
      rows.push_back(std::move(values));
    }
  }
  return rows;
}

void sql_exec(table::Database& db, const std::string& sql) {
  table::Connection con(db);
  con.execute(sql, "test statement", ErrorKind::kRun);
}

std::string quoted(const fs::path& path) {
  return table::sql_string_literal(path.string());
}

pid_t start_process(const std::vector<std::string>& argv, const std::vector<std::string>* env,
                    const fs::path& cwd, const fs::path& out_path, const fs::path& err_path) {
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  if (env != nullptr) {
    for (const std::string& e : *env)
      envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  const char* out_name = out_path.empty() ? "/dev/null" : out_path.c_str();
  const char* err_name = err_path.empty() ? "/dev/null" : err_path.c_str();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(out_name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    if (env != nullptr) {
      ::execve(args[0], args.data(), envp.data());
    } else {
      ::execv(args[0], args.data());
    }
    ::_exit(127);
  }
  return pid;
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>* env,
                          const fs::path& cwd) {
  ScratchDir capture;
  const fs::path out_path = capture / "stdout";
  const fs::path err_path = capture / "stderr";
  const pid_t pid = start_process(argv, env, cwd, out_path, err_path);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // ru_maxrss is in KiB on Linux.
  return {code, read_text_file(out_path), read_text_file(err_path),
          static_cast<double>(usage.ru_maxrss) / 1024.0};
}

void write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

CpuInfo read_cpuinfo() {
  std::ifstream info("/proc/cpuinfo");
  CpuInfo cpu;
  std::string line;
  while ((cpu.vendor.empty() || cpu.flags.empty()) && std::getline(info, line)) {
    const std::string value = line.substr(line.find(':') + 1);
    if (line.rfind("vendor_id", 0) == 0) cpu.vendor = value;
    if (line.rfind("flags", 0) == 0) cpu.flags = value + " ";
  }
  return cpu;
}

double textbook_distance(const std::string& metric, const float* a, const float* b, size_t dim) {
  double dot = 0, na = 0, nb = 0, l2 = 0, l1 = 0;
  for (size_t i = 0; i < dim; ++i) {
    const double x = a[i], y = b[i];
    dot += x * y;
    na += x * x;
    nb += y * y;
    l2 += (x - y) * (x - y);
    l1 += std::abs(x - y);
  }
  if (metric == "cosine") return 1 - dot / std::sqrt(na * nb);
  if (metric == "euclidean") return std::sqrt(l2);
  return l1;
}

}  // namespace deft::testing
