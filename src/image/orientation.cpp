#include "image/orientation.h"

#include <cstring>

namespace deft::image {

preprocess::RgbImage apply_orientation(preprocess::RgbImage image, int orientation) {
  if (orientation < 2 || orientation > 8) return image;
  const int w = image.width;
  const int h = image.height;
  const bool swaps = orientation >= 5;  // 5–8 turn the image by a quarter
  preprocess::RgbImage out(swaps ? h : w, swaps ? w : h);
  for (int yo = 0; yo < out.height; ++yo) {
    for (int xo = 0; xo < out.width; ++xo) {
      // Where the displayed pixel (xo, yo) is stored.
      int xi = xo;
      int yi = yo;
      switch (orientation) {
        case 2:
          xi = w - 1 - xo;
          break;  // mirrored
        case 3:
          xi = w - 1 - xo;
          yi = h - 1 - yo;
          break;  // upside down
        case 4:
          yi = h - 1 - yo;
          break;  // mirrored vertically
        case 5:
          xi = yo;
          yi = xo;
          break;  // transposed
        case 6:
          xi = yo;
          yi = h - 1 - xo;
          break;  // turn 90° clockwise
        case 7:
          xi = w - 1 - yo;
          yi = h - 1 - xo;
          break;  // transversed
        default:
          xi = w - 1 - yo;
          yi = xo;
          break;  // 8: turn 90° anticlockwise
      }
      std::memcpy(out.row(yo) + 3 * static_cast<size_t>(xo),
                  image.row(yi) + 3 * static_cast<size_t>(xi), 3);
    }
  }
  return out;
}

}  // namespace deft::image
