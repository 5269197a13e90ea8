#pragma once
// Pillow's CMYK → RGB (Convert.c cmyk2rgb), shared by the JPEG and libvips decode paths:
// nk = 255 − k; each channel nk − nk·c/255, rounded as Pillow rounds.

#include <cstdint>

namespace deft::image {

inline uint8_t cmyk_channel(unsigned c, unsigned k) {
  const unsigned nk = 255 - k;
  const unsigned t = c * nk + 128;
  const unsigned scaled = ((t >> 8) + t) >> 8;
  return static_cast<uint8_t>(nk > scaled ? nk - scaled : 0);
}

}  // namespace deft::image
