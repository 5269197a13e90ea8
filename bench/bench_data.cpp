#include "bench_data.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <random>

#include <faiss/utils/utils.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels/blas_core.h"
#include "model/fingerprint.h"
#include "table/duckdb_handles.h"
#include "table/embedding_table.h"
#include "table/table_reader.h"

namespace fs = std::filesystem;
using namespace deft;

namespace bench {

size_t centre_of(uint64_t seed, uint64_t i, const std::vector<float>& centres, size_t dim) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + i);
  return rng() % (centres.size() / dim);
}

void make_vector(uint64_t seed, uint64_t i, size_t dim, const std::vector<float>& centres,
                 float* out) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + i);
  std::normal_distribution<float> normal(0.f, 1.f);
  const float* c = &centres[(rng() % (centres.size() / dim)) * dim];
  double norm = 0;
  for (size_t j = 0; j < dim; ++j) {
    out[j] = c[j] + 0.5f * normal(rng);
    norm += static_cast<double>(out[j]) * out[j];
  }
  const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
  for (size_t j = 0; j < dim; ++j)
    out[j] *= scale;
}

std::vector<float> centres_for(size_t dim) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> c(64 * dim);
  for (float& x : c)
    x = normal(rng);
  return c;
}

void write_set(const fs::path& path, uint64_t seed, uint64_t rows, size_t dim,
               const std::vector<float>& centres) {
  if (fs::exists(path)) return;
  table::Database db;
  const fs::path names = path.string() + ".names.parquet";
  {
    table::Connection con(db);
    con.execute(fmt::format("COPY (SELECT 'img/' || i || '.jpg' AS filepath FROM range({}) t(i)) "
                            "TO '{}' (FORMAT parquet)",
                            rows, names.string()),
                "names", ErrorKind::kRun);
  }
  table::TableReader reader(db, names);
  // A fingerprint, as `deft embed` writes one: mining checks it (and the check is timed).
  model::EncoderFingerprint f;
  f.family = "SigLIP";
  f.model_id = "bench/random-vectors";
  f.weights_digest = "xxh3-128:" + std::string(32, '0');
  f.preprocessing = "none";
  f.compute_dtype = "fp32";
  f.embedding_dim = static_cast<int>(dim);
  f.normalized = true;
  table::EmbeddingTableWriter writer(db, reader, path, dim,
                                     {.kv_metadata = {{model::kFingerprintKey, f.to_json()}}});
  std::vector<idx_t> index;
  std::vector<float> vectors;
  uint64_t row = 0;
  while (table::DataChunk chunk = reader.next_chunk()) {
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    index.resize(n);
    vectors.resize(n * dim);
    for (idx_t r = 0; r < n; ++r, ++row) {
      index[r] = r;
      make_vector(seed, row, dim, centres, &vectors[r * dim]);
    }
    writer.append(chunk, index, vectors);
  }
  writer.commit();
  fs::remove(names);
}

Run run_process(const std::vector<std::string>& args, const std::filesystem::path& stderr_file) {
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    if (!stderr_file.empty()) {
      const int fd = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) ::dup2(fd, 2);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          static_cast<double>(usage.ru_maxrss) / 1024.0, status};
}

Common parse_common(
    int argc, char** argv, Common c,
    const std::function<bool(const std::string&, const std::function<std::string()>&)>& extra) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const std::function<std::string()> next = [&] {
      return std::string(i + 1 < argc ? argv[++i] : "");
    };
    if (a == "--deft") {
      c.deft = next();
    } else if (a == "--work") {
      c.work = next();
    } else if (a == "--targets") {
      c.targets = std::stoull(next());
    } else if (a == "--pool") {
      c.pool = std::stoull(next());
    } else if (a == "--dim") {
      c.dim = std::stoul(next());
    } else if (a == "--budget-mb") {
      c.budget_mb = std::stod(next());
    } else if (a == "--no-peer") {
      c.peer = false;
    } else if (!extra(a, next)) {
      std::cerr << "unknown argument " << a << "\n";
      std::exit(2);
    }
  }
  return c;
}

void write_sets(Common& c) {
  fs::create_directories(c.work);
  c.centres = centres_for(c.dim);
  c.target_file = c.work / fmt::format("targets_{}x{}.v2.parquet", c.targets, c.dim);
  c.pool_file = c.work / fmt::format("pool_{}x{}.v2.parquet", c.pool, c.dim);
  write_set(c.target_file, 1, c.targets, c.dim, c.centres);
  write_set(c.pool_file, 2, c.pool, c.dim, c.centres);
}

void tune_like_deft(char** argv) {
  const std::string core = deft::kernels::better_openblas_core();
  if (std::getenv("OMP_WAIT_POLICY") != nullptr && core.empty()) return;
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  if (!core.empty()) ::setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  ::execv("/proc/self/exe", argv);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string cpu_isa() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      flags = " " + line.substr(line.find(':') + 2) + " ";
      break;
    }
  }
  std::string isa;
  for (const char* f : {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"}) {
    if (flags.find(std::string(" ") + f + " ") != std::string::npos)
      isa += (isa.empty() ? "" : "+") + std::string(f);
  }
  return fmt::format("{}; faiss {}", isa.empty() ? "baseline" : isa, faiss::get_compile_options());
}

}  // namespace bench
