// Image decoding through deft's own entry point (JPEG through libjpeg; PNG, WebP, TIFF, GIF,
// BMP through libvips) with the default limits, once as embedding decodes by default and once
// with EXIF orientation applied and a shrink-on-load target.
#include <span>

#include "fuzz_support.h"
#include "image/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  deft::image::DecodeOptions oriented;
  oriented.apply_exif_orientation = true;
  oriented.target_width = oriented.target_height = 32;
  for (const deft::image::DecodeOptions& options : {deft::image::DecodeOptions{}, oriented}) {
    try {
      const deft::preprocess::RgbImage rgb = deft::image::decode_image(bytes, options);
      if (rgb.width <= 0 || rgb.height <= 0 ||
          rgb.data.size() != static_cast<size_t>(rgb.width) * rgb.height * 3) {
        __builtin_trap();
      }
    } catch (const deft::image::DecodeError&) {
      // a sidecar row's reason: the outcome a bad image must get
    }
  }
  return 0;
}
