#include "common/digest.h"

#include <fmt/format.h>
#include <xxhash.h>

#include "common/error.h"

namespace deft {
namespace {

std::string hex(XXH128_hash_t h) {
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

}  // namespace

std::string xxh3_128_hex(const void* data, size_t size) {
  return hex(XXH3_128bits(data, size));
}

struct Xxh3Digest::State {
  XXH3_state_t* xxh = XXH3_createState();
  ~State() { XXH3_freeState(xxh); }
};

Xxh3Digest::Xxh3Digest() : state_(std::make_unique<State>()) {
  DEFT_ASSERT(state_->xxh != nullptr, "xxhash state allocation");
  XXH3_128bits_reset(state_->xxh);
}

Xxh3Digest::~Xxh3Digest() = default;

void Xxh3Digest::update(const void* data, size_t size) {
  XXH3_128bits_update(state_->xxh, data, size);
}

std::string Xxh3Digest::hex() const {
  return deft::hex(XXH3_128bits_digest(state_->xxh));
}

}  // namespace deft
