#pragma once
// libvips, set up once for deft's use: our own threads call it (vips's own worker pool and
// operation cache are off: they would fight the encoder for 2 cores and hold memory), and
// loaders that parse formats we do not accept stay blocked.
//
//   image::init_vips();
//   image::VipsImagePtr img = ...;   // owns one reference, g_object_unref on destruction

#include <memory>
#include <string>

#include <vips/vips.h>

namespace deft::image {

// Idempotent and thread-safe; throws Error(kRun) if libvips cannot start.
void init_vips();

struct VipsUnref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using VipsImagePtr = std::unique_ptr<VipsImage, VipsUnref>;

// libvips's error buffer as one line (then cleared): the reason a load or an operation failed.
std::string take_vips_error();

}  // namespace deft::image
