#include "image/vips_image.h"

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

std::string take_vips_error() {
  std::string text = vips_error_buffer();
  vips_error_clear();
  // One line: libvips separates messages with newlines and ends with one.
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text;
}

}  // namespace deft::image
