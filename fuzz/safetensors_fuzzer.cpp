// The safetensors reader: header JSON, tensor table (dtypes, shapes, offsets tiling the data
// buffer), and the values of every tensor widened to float32 as the encoders load them.
#include "fuzz_support.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool ready = (deft::fuzz::silence_log(), true);
  (void)ready;
  const auto path = deft::fuzz::write_input("model.safetensors", data, size);
  deft::fuzz::expect_refusal_only(
      [&] { deft::fuzz::widen_every_tensor(deft::model::SafetensorsFile(path)); });
  return 0;
}
