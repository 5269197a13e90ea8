#include "index/float_dot.h"

namespace deft::index {

__attribute__((target_clones("avx512f", "avx2", "default"))) float dot_f32(const float* a,
                                                                           const float* b,
                                                                           size_t n) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (size_t i = 0; i < n; ++i)
    sum += a[i] * b[i];
  return sum;
}

}  // namespace deft::index
