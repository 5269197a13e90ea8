#pragma once
// What the mining benchmarks share: clustered unit vectors from a fixed seed (row i is the same
// floats every time), written once as embedding parquets with a fingerprint as `deft embed`
// writes one, and a child process timed with its peak RSS.
//
//   const auto centres = bench::centres_for(768);
//   bench::write_set("pool.parquet", /*seed=*/2, 1'000'000, 768, centres);
//   bench::Run r = bench::run_process({"build/deft", "mine", ...});

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace bench {

// 64 random centres of `dim` floats.
std::vector<float> centres_for(size_t dim);
// Row `i` of set `seed`: a centre plus noise, unit length.
void make_vector(uint64_t seed, uint64_t i, size_t dim, const std::vector<float>& centres,
                 float* out);
// The centre row `i` of set `seed` was drawn around (0…63).
size_t centre_of(uint64_t seed, uint64_t i, const std::vector<float>& centres, size_t dim);
// filepath `img/<i>.jpg` and `embedding`, with a fingerprint; kept when it exists.
void write_set(const std::filesystem::path& path, uint64_t seed, uint64_t rows, size_t dim,
               const std::vector<float>& centres);

struct Run {
  double seconds;
  double peak_rss_mib;
  int status;
};
// `stderr_file`: where the process's stderr goes (empty: this process's).
Run run_process(const std::vector<std::string>& args,
                const std::filesystem::path& stderr_file = {});

// What every mining bench takes on its command line, and the sets it writes.
struct Common {
  std::string deft = "build/deft";
  std::filesystem::path work;
  uint64_t targets = 1000, pool = 1000000;
  size_t dim = 768;
  double budget_mb = 1024;
  bool peer = true;
  // Filled by write_sets.
  std::vector<float> centres;
  std::filesystem::path target_file, pool_file;
};
// --deft --work --targets --pool --dim --budget-mb --no-peer over `defaults`; `extra(flag,
// value)` takes a bench's own flags (value() reads the next argument) and returns false for an
// unknown one. Exits 2 on an unknown flag.
Common parse_common(
    int argc, char** argv, Common defaults,
    const std::function<bool(const std::string&, const std::function<std::string()>&)>& extra);
// The targets (seed 1) and pool (seed 2) parquets in `work`, written once and kept.
void write_sets(Common& c);
// Starts this bench again with what deft gives itself (src/cli/main.cpp): passive OpenMP
// waits and the OpenBLAS kernel the CPU supports, so the in-process peer gets them too; the
// deft child inherits both. Returns only when nothing needed changing.
void tune_like_deft(char** argv);

// The CPU model and the vector ISA the machine offers, for the printed rows.
std::string cpu_model();
std::string cpu_isa();

}  // namespace bench
