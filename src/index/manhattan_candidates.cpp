#include "index/manhattan_candidates.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "common/error.h"
#include "index/vector_loops.h"

namespace deft::index {

namespace {

// Room for the double arithmetic of the bounds themselves (a few roundings of 2⁻⁵³).
constexpr double kSlack = 1e-12;

bool forced_portable() {
  const char* isa = std::getenv("DEFT_SEARCH_ISA");  // NOLINT(concurrency-mt-unsafe)
  if (isa == nullptr || std::string(isa).empty() || std::string(isa) == "auto") return false;
  if (std::string(isa) == "portable") return true;
  throw Error(ErrorKind::kUsage,
              fmt::format("DEFT_SEARCH_ISA is '{}': it takes auto or portable", isa));
}

}  // namespace

ManhattanCandidates::ManhattanCandidates(const float* targets, size_t count, size_t dim)
    : targets_(targets), count_(count), dim_(dim), portable_(forced_portable()) {
  // A term's subtraction and the d − 1 additions: γ_d in float; d + 1 roundings in double.
  const double g = gamma_n(dim, 0x1p-24);
  const double g_double = gamma_n(dim + 1, 0x1p-53);
  lower_ = (1.0 - g_double) / (1.0 + g) * (1.0 - kSlack);
  upper_ = (1.0 + g_double) / (1.0 - g) * (1.0 + kSlack);
  // Below the normal range a float operation errs by up to half the smallest subnormal.
  absolute_ = static_cast<double>(dim) * std::numeric_limits<float>::denorm_min();
}

std::string ManhattanCandidates::kernel() const {
  const bool avx512 = !portable_ && __builtin_cpu_supports("avx512f") != 0;
  return avx512 ? "fp32 L1 sums (AVX-512)" : "fp32 L1 sums (portable)";
}

void ManhattanCandidates::find(const float* vectors, size_t rows, const std::vector<double>& worst,
                               const std::vector<size_t>& missing,
                               std::vector<CandidateHit>& hits) {
  DEFT_ASSERT(rows <= kPoolChunk, "a chunk of at most kPoolChunk rows");
  hits.clear();
  const size_t groups = (count_ + kTargetGroup - 1) / kTargetGroup;
  group_hits_.resize(groups);
  const auto group_count = static_cast<std::ptrdiff_t>(groups);
#pragma omp parallel
  {
    std::vector<float> sums(kTargetGroup * rows);
    std::vector<float> sorted;
#pragma omp for schedule(dynamic)
    for (std::ptrdiff_t g = 0; g < group_count; ++g) {
      const size_t t0 = static_cast<size_t>(g) * kTargetGroup;
      const size_t nt = std::min(kTargetGroup, count_ - t0);
      const float* a = targets_ + t0 * dim_;
      if (portable_) {
        portable::l1_distances(a, nt, vectors, rows, dim_, sums.data(), rows);
      } else {
        l1_distances(a, nt, vectors, rows, dim_, sums.data(), rows);
      }
      std::vector<CandidateHit>& out = group_hits_[static_cast<size_t>(g)];
      out.clear();
      for (size_t i = 0; i < nt; ++i) {
        const size_t t = t0 + i;
        const float* s = sums.data() + i * rows;
        // The exact distance a row must not exceed to enter the target's n nearest.
        double limit = worst[t];
        if (missing[t] >= rows) {
          limit = std::numeric_limits<double>::infinity();
        } else if (missing[t] > 0) {
          sorted.assign(s, s + rows);
          const auto m = static_cast<std::ptrdiff_t>(missing[t] - 1);
          std::nth_element(sorted.begin(), sorted.begin() + m, sorted.end());
          const double reach =
              (static_cast<double>(sorted[static_cast<size_t>(m)]) + absolute_) * upper_;
          limit = std::max(limit, reach);
        }
        // ŝ·lower − absolute ≤ limit, in float: ŝ ≤ (limit + absolute) / lower.
        const float keep = float_at_least((limit + absolute_) / lower_);
        for (size_t j = 0; j < rows; ++j) {
          if (s[j] <= keep || std::isinf(s[j]))
            out.push_back({static_cast<uint32_t>(t), static_cast<uint32_t>(j)});
        }
      }
    }
  }
  for (const std::vector<CandidateHit>& g : group_hits_)
    hits.insert(hits.end(), g.begin(), g.end());
}

}  // namespace deft::index
