#pragma once
// JPEG → 8-bit RGB straight through libjpeg(-turbo), for the common case: YCbCr, RGB and grey
// JPEGs. Pillow decodes with the same library and the same settings (islow DCT, fancy
// upsampling), so the pixels are Pillow's; libvips's loader on top of it costs ~70% more time
// per image (its region and line-cache machinery), which is why this path exists.
//
//   if (auto rgb = image::decode_plain_jpeg(bytes, options)) use(*rgb);
//   else /* CMYK or YCCK: libvips */
//
// Refusals (corrupt, truncated, over the pixel limit, past the deadline) throw DecodeError with
// the same wording as the libvips path.

#include <cstddef>
#include <optional>
#include <span>

#include "image/decode.h"
#include "preprocess/rgb_image.h"

namespace deft::image {

// nullopt when the JPEG's colour space is one this path leaves to libvips (CMYK, YCCK).
// Shrink-on-load, the pixel limit and the deadline follow `options` as decode_image does.
std::optional<preprocess::RgbImage> decode_plain_jpeg(std::span<const std::byte> bytes,
                                                      const DecodeOptions& options);

}  // namespace deft::image
