#pragma once
// Python's `random.Random(seed).sample(...)`, bit for bit (CPython's Mersenne Twister seeded by
// init_by_array, _randbelow by getrandbits, sample's pool and set methods), so a visualisation
// that samples targets picks the same ones the reference's would.
//
//   PythonRandom rng(42);
//   std::vector<size_t> picked = rng.sample(candidates.size(), 5);   // indices, in pick order

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace deft::select {

class PythonRandom {
 public:
  explicit PythonRandom(uint32_t seed);
  uint32_t next_u32();
  // getrandbits(bits) for bits ≤ 32; _randbelow(n) for n ≥ 1.
  uint32_t random_bits(int bits);
  uint64_t below(uint64_t n);
  // random.sample(range(n), k): k distinct indices in the order Python draws them.
  std::vector<size_t> sample(size_t n, size_t k);

 private:
  static constexpr int kN = 624;
  std::array<uint32_t, kN> mt_{};
  int index_ = kN;
};

}  // namespace deft::select
