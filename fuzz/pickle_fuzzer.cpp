// The restricted unpickler alone (a data.pkl without its zip around it: mutations reach the
// opcodes directly).
#include <span>

#include "fuzz_support.h"
#include "model/torch_pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> pickle(reinterpret_cast<const std::byte*>(data), size);
  deft::fuzz::expect_refusal_only(
      [&] { (void)deft::model::read_state_dict_pickle(pickle, "archive/data.pkl"); });
  return 0;
}
