#pragma once
// Image files → 8-bit RGB: JPEGs through libjpeg (jpeg_decode.h), the rest with libvips.
//
//   image::DecodeOptions options{.max_pixels = 100'000'000};
//   preprocess::RgbImage rgb = image::decode_image(bytes, options);   // throws DecodeError
//
// Formats: JPEG, PNG, WebP, TIFF, GIF (first frame), BMP. Anything else is refused by its
// content (the file name does not matter). Colour follows Pillow's convert("RGB"), which the
// Hugging Face processors use: grey is replicated, alpha is dropped (not composited), palettes
// are expanded, CMYK uses Pillow's formula (no colour management). 16-bit samples keep their
// high byte (Pillow keeps it for 16-bit RGB, but clips 16-bit grey to 255: deft does not).
// EXIF orientation is ignored by default, as the HF processors and the reference container do;
// `apply_exif_orientation` rotates as a photo viewer would.

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "preprocess/rgb_image.h"

namespace deft::image {

struct DecodeOptions {
  bool apply_exif_orientation = false;
  // Refuse images with more pixels than this before decoding them (decompression bombs).
  // Pillow's own limit (2 × 89,478,485) by default.
  uint64_t max_pixels = 178'956'970;
  // Shrink-on-load: when > 0, a JPEG (other than CMYK) may be decoded at 1/2, 1/4 or 1/8 scale
  // (libjpeg's DCT scaling, as Pillow's Image.draft) as long as the result stays at least
  // min_shrunk_ratio times the target on both axes.
  int target_width = 0;
  int target_height = 0;
  double min_shrunk_ratio = 2.0;
  // Work per image is bounded: decoding stops with an error after this long.
  double timeout_seconds = 60.0;
};

// A file that is not an image deft can use; what() is a one-line reason for the sidecar.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What kind of image the bytes hold ("JPEG", "PNG", ...), or "" when none deft accepts.
std::string sniff_format(std::span<const std::byte> bytes);

preprocess::RgbImage decode_image(std::span<const std::byte> bytes, const DecodeOptions& options);

// The JPEG DCT shrink factor (1, 2, 4 or 8) decode_image uses for a width × height JPEG.
int jpeg_shrink_factor(int width, int height, const DecodeOptions& options);

}  // namespace deft::image
