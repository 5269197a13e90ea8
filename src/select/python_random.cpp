#include "select/python_random.h"

#include <cmath>
#include <unordered_set>

#include "common/error.h"

namespace deft::select {

PythonRandom::PythonRandom(uint32_t seed) {
  // init_genrand(19650218), then init_by_array({seed}) as CPython's random_seed does for a
  // small non-negative int.
  mt_[0] = 19650218U;
  for (int i = 1; i < kN; ++i)
    mt_[i] = 1812433253U * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<uint32_t>(i);
  const uint32_t key[1] = {seed};
  int i = 1;
  int j = 0;
  for (int k = kN; k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + key[j] +
             static_cast<uint32_t>(j);
    ++i;
    ++j;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
    if (j >= 1) j = 0;
  }
  for (int k = kN - 1; k > 0; --k) {
    mt_[i] =
        (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) - static_cast<uint32_t>(i);
    ++i;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000U;
}

uint32_t PythonRandom::next_u32() {
  constexpr int kM = 397;
  if (index_ >= kN) {
    for (int k = 0; k < kN; ++k) {
      const uint32_t y = (mt_[k] & 0x80000000U) | (mt_[(k + 1) % kN] & 0x7fffffffU);
      mt_[k] = mt_[(k + kM) % kN] ^ (y >> 1) ^ ((y & 1U) != 0 ? 0x9908b0dfU : 0U);
    }
    index_ = 0;
  }
  uint32_t y = mt_[index_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= y >> 18;
  return y;
}

uint32_t PythonRandom::random_bits(int bits) {
  DEFT_ASSERT(bits >= 1 && bits <= 32, "getrandbits of 1 to 32 bits");
  return next_u32() >> (32 - bits);
}

uint64_t PythonRandom::below(uint64_t n) {
  DEFT_ASSERT(n >= 1 && n <= 0xffffffffULL, "_randbelow of a 32-bit range");
  int bits = 0;
  for (uint64_t v = n; v != 0; v >>= 1)
    ++bits;
  uint64_t r = random_bits(bits);
  while (r >= n)
    r = random_bits(bits);
  return r;
}

std::vector<size_t> PythonRandom::sample(size_t n, size_t k) {
  DEFT_ASSERT(k <= n, "a sample no larger than its population");
  std::vector<size_t> result(k);
  size_t setsize = 21;
  if (k > 5)
    setsize += static_cast<size_t>(std::pow(4.0, std::ceil(std::log(3.0 * k) / std::log(4.0))));
  if (n <= setsize) {
    std::vector<size_t> pool(n);
    for (size_t i = 0; i < n; ++i)
      pool[i] = i;
    for (size_t i = 0; i < k; ++i) {
      const size_t j = below(n - i);
      result[i] = pool[j];
      pool[j] = pool[n - i - 1];
    }
  } else {
    std::unordered_set<size_t> selected;
    for (size_t i = 0; i < k; ++i) {
      size_t j = below(n);
      while (selected.count(j) > 0)
        j = below(n);
      selected.insert(j);
      result[i] = j;
    }
  }
  return result;
}

}  // namespace deft::select
