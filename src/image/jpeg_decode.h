#pragma once
// JPEG → 8-bit RGB straight through libjpeg(-turbo): YCbCr, RGB, grey, CMYK and YCCK. Pillow
// decodes with the same library and the same settings (islow DCT, fancy upsampling; CMYK with
// Adobe's inverted polarity, which Pillow assumes for every CMYK JPEG, then its cmyk2rgb), so
// the pixels are Pillow's; libvips's loader on top of it costs ~70% more time per image.
//
//   preprocess::RgbImage rgb = image::decode_jpeg(bytes, options);   // throws DecodeError
//
// Refusals (corrupt, truncated, over the pixel limit, past the deadline, a header promising
// more blocks than the file has bits) throw DecodeError with the wording of the other paths.
// The cost of a decode is bounded by the data: a Huffman-coded scan spends at least one bit on
// every block of each component it codes, so a file with fewer bits than its smallest
// component has 8×8 blocks is refused before anything is allocated (a 475-byte CMYK file
// claiming 65498×1995 pixels would otherwise decode to 130 M pixels of filler).

#include <cstddef>
#include <span>

#include "image/decode.h"
#include "preprocess/rgb_image.h"

namespace deft::image {

// Shrink-on-load (not for CMYK, as before), the pixel limit and the deadline follow `options`
// as decode_image does.
preprocess::RgbImage decode_jpeg(std::span<const std::byte> bytes, const DecodeOptions& options);

}  // namespace deft::image
