#pragma once
// libvips, set up once for deft's use: our own threads call it (vips's own worker pool and
// operation cache are off: they would fight the encoder for 2 cores and hold memory), and
// loaders that parse formats we do not accept stay blocked.
//
//   image::init_vips();
//   image::VipsImagePtr img = ...;   // owns one reference, g_object_unref on destruction

#include <cstdint>
#include <functional>
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

// The image's pixels, rows one after another (VIPS_IMAGE_SIZEOF_LINE bytes each), computed on
// the calling thread, strip by strip from the top (so sequential loaders work). libvips's own
// worker threads never run: its threadpool (vips_image_write_to_memory and the sinks) hands
// each pipeline to a pooled thread that frees its per-thread buffers after telling the caller
// it is done, while the caller already frees the image: Debian 12's libvips 8.14 has such
// races (fixed upstream in 8.15), and a rare heap corruption in CI came with them. The
// calling thread's own buffers are freed before returning. `go_on` is asked before each
// strip: false stops the read. nullptr when stopped or when libvips fails (its error buffer
// says why). The buffer is not zeroed first: a file whose header promises 100 megapixels and
// whose data stops early costs the memory it fills, not the memory it promised.
std::unique_ptr<uint8_t[]> compute_pixels(VipsImage* image, const std::function<bool()>& go_on);

// libvips's error buffer as one line (then cleared): the reason a load or an operation failed.
std::string take_vips_error();

}  // namespace deft::image
