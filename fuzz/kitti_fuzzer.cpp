// A KITTI label file (`class truncated occluded alpha x1 y1 x2 y2 …` per line) in a label
// folder, as class-stratified selection reads it.
#include "fuzz_support.h"
#include "select/detections.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  deft::fuzz::write_input("kitti/000001.txt", data, size);
  deft::fuzz::expect_refusal_only([&] {
    const auto d = deft::select::Detections::read(deft::fuzz::scratch_dir() / "kitti",
                                                  deft::select::DetectionFormat::kKitti);
    if (d.find("000001.png") == nullptr && d.find("000001") != nullptr) __builtin_trap();
  });
  return 0;
}
