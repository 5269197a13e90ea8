#pragma once
// An fp32 inner product in whatever order the CPU sums fastest (AVX-512, AVX2 or SSE2, picked
// at load time). Its error obeys the order-free bound |ŝ − a·b| ≤ γ_d Σ|a_k b_k| (Higham §3.1),
// which is all the bounded search asks of it; it is never an exact distance.

#include <cstddef>

namespace deft::index {

float dot_f32(const float* a, const float* b, size_t n);

}  // namespace deft::index
