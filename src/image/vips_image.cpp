#include "image/vips_image.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "common/error.h"

namespace deft::image {

void init_vips() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    ok = vips_init("deft") == 0;
    if (!ok) return;
    vips_concurrency_set(1);  // deft decodes many images at once, one per worker thread
    vips_cache_set_max(0);    // every image is loaded once: caching only costs memory
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    // Decoder warnings ("error in tile", "premature end of JPEG file") would flood the
    // terminal: a failing file becomes a failure row with its reason, and a file that decodes
    // despite a warning is fine.
    g_log_set_handler(
        "VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
        [](const gchar*, GLogLevelFlags, const gchar*, gpointer) {}, nullptr);
  });
  if (!ok) throw Error(ErrorKind::kRun, "libvips failed to start: " + take_vips_error());
}

namespace {

struct RegionUnref {
  void operator()(VipsRegion* region) const { g_object_unref(region); }
};

// Frees the calling thread's libvips buffers (kept per thread for its next region) on scope
// exit: deft's decoding threads would otherwise hold them until they end.
struct ThreadBuffersFreed {
  ThreadBuffersFreed() = default;
  ThreadBuffersFreed(const ThreadBuffersFreed&) = delete;
  ThreadBuffersFreed& operator=(const ThreadBuffersFreed&) = delete;
  ~ThreadBuffersFreed() { vips_thread_shutdown(); }
};

}  // namespace

std::unique_ptr<uint8_t[]> compute_pixels(VipsImage* image, const std::function<bool()>& go_on) {
  // Strips of this many rows: the stop check's granularity, and the most a region holds.
  constexpr int kStripRows = 16;
  const ThreadBuffersFreed freed;  // declared first: runs after the region is gone
  const int width = vips_image_get_width(image);
  const int height = vips_image_get_height(image);
  const auto line = static_cast<size_t>(VIPS_IMAGE_SIZEOF_LINE(image));
  std::unique_ptr<VipsRegion, RegionUnref> region(vips_region_new(image));
  if (!region) return nullptr;
  auto pixels = std::make_unique_for_overwrite<uint8_t[]>(line * static_cast<size_t>(height));
  for (int top = 0; top < height; top += kStripRows) {
    if (!go_on()) return nullptr;
    VipsRect strip{0, top, width, std::min(kStripRows, height - top)};
    if (vips_region_prepare(region.get(), &strip) != 0) return nullptr;
    for (int y = top; y < top + strip.height; ++y) {
      std::memcpy(pixels.get() + static_cast<size_t>(y) * line,
                  VIPS_REGION_ADDR(region.get(), 0, y), line);
    }
  }
  return pixels;
}

std::string take_vips_error() {
  // A copy taken and cleared under libvips's lock: decoding threads fail side by side.
  char* buffer = vips_error_buffer_copy();
  std::string text = buffer != nullptr ? buffer : "";
  g_free(buffer);
  // One line: libvips separates messages with newlines and ends with one.
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text;
}

}  // namespace deft::image
