// COCO detection files of class-stratified selection, as the reference reads them (images,
// annotations, categories; ids, boxes, file names), then looked up as selection does.
#include "fuzz_support.h"
#include "select/detections.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = deft::fuzz::write_input("detections.json", data, size);
  deft::fuzz::expect_refusal_only([&] {
    const auto d = deft::select::Detections::read(path, deft::select::DetectionFormat::kCoco);
    for (const char* name : {"a.jpg", "imgs/0001.jpg", "0001", ""})
      (void)d.find(name);
  });
  return 0;
}
