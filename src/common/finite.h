#pragma once
// One check for vectors read or computed: every component finite (no NaN, no infinity).
// Mining refuses such rows (naming them); embedding fails the image that produced one.
//
//   if (!all_finite(v, dim)) ...

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace deft {

inline bool all_finite(const float* v, size_t n) {
  return std::all_of(v, v + n, [](float x) { return std::isfinite(x); });
}

}  // namespace deft
