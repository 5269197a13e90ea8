// pytorch_model.bin: the zip container (records, local headers, zip64), the restricted
// unpickler on its data.pkl, and each tensor's view of its storage record.
#include "fuzz_support.h"
#include "model/torch_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool ready = (deft::fuzz::silence_log(), true);
  (void)ready;
  const auto path = deft::fuzz::write_input("pytorch_model.bin", data, size);
  deft::fuzz::expect_refusal_only(
      [&] { deft::fuzz::widen_every_tensor(deft::model::TorchFile(path)); });
  return 0;
}
