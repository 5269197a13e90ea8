#pragma once
// EXIF orientation (the TIFF Orientation tag, 1–8) applied to decoded pixels, as a photo viewer
// and Pillow's ImageOps.exif_transpose do: the result is the image the way it should be seen.
//
//   rgb = image::apply_orientation(rgb, 6);   // stored sideways: rotated 90° clockwise

#include "preprocess/rgb_image.h"

namespace deft::image {

// 1 (or any value outside 2–8) leaves the image as it is.
preprocess::RgbImage apply_orientation(preprocess::RgbImage image, int orientation);

}  // namespace deft::image
