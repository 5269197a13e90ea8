#pragma once
// XXH3-128 digests as text: 32 lowercase hex digits, high half first. One spelling for every
// digest deft records (weights in the encoder fingerprint, image files for reuse).
//
//   std::string d = xxh3_128_hex(bytes.data(), bytes.size());
//   Xxh3Digest streaming;  streaming.update(a, n);  streaming.update(b, m);  streaming.hex();

#include <cstddef>
#include <memory>
#include <string>

namespace deft {

std::string xxh3_128_hex(const void* data, size_t size);

class Xxh3Digest {
 public:
  Xxh3Digest();
  ~Xxh3Digest();
  Xxh3Digest(const Xxh3Digest&) = delete;
  Xxh3Digest& operator=(const Xxh3Digest&) = delete;
  void update(const void* data, size_t size);
  std::string hex() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace deft
