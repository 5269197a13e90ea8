#pragma once
// What ExactSearch asks of a candidate finder: for a chunk of pool rows, every (target, row)
// whose exact distance could still put the row among the target's n nearest, found from
// approximate scores with a proven error bound. ExactSearch re-scores those in double; the
// rest are never looked at again. Inner products (cosine, euclidean): BoundedCandidates;
// Manhattan: ManhattanCandidates.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace deft::index {

// γ_n = n·u / (1 − n·u): the relative error bound of n roundings of unit roundoff u (Higham
// §3.1); u = 2⁻²⁴ for float, 2⁻⁵³ for double.
inline double gamma_n(size_t n, double u) {
  const double nu = static_cast<double>(n) * u;
  return nu / (1.0 - nu);
}

// The smallest float ≥ x (±infinity stay as they are): a double threshold compared in float
// without letting a row through the rounding.
inline float float_at_least(double x) {
  if (std::isinf(x)) return static_cast<float>(x);
  const auto f = static_cast<float>(x);
  return static_cast<double>(f) >= x ? f
                                     : std::nextafter(f, std::numeric_limits<float>::infinity());
}

struct CandidateHit {
  uint32_t target;
  uint32_t row;  // within the chunk
};

class CandidateFinder {
 public:
  // Pool rows scored per call at most.
  static constexpr size_t kPoolChunk = 2048;

  virtual ~CandidateFinder() = default;
  // For `rows` ≤ kPoolChunk pool vectors: every (target, row) that could enter the target's n
  // nearest. `worst[t]`: the largest exact distance among the target's best so far (its n-th
  // once it has n; −inf while it has none); `missing[t]`: how many it still lacks (0 once it
  // has n). Hits come sorted by (target, row).
  virtual void find(const float* vectors, size_t rows, const std::vector<double>& worst,
                    const std::vector<size_t>& missing, std::vector<CandidateHit>& hits) = 0;
  // The scores' kernel, for the summary: "int8 on oneDNN (avx512_core_vnni)", …
  virtual std::string kernel() const = 0;
};

}  // namespace deft::index
