#include "image/jpeg_decode.h"

#include <algorithm>
#include <chrono>
#include <csetjmp>
#include <cstdio>
#include <string>
#include <vector>

// jpeglib.h needs size_t and FILE declared first.
#include <fmt/format.h>
#include <jerror.h>
#include <jpeglib.h>

#include "common/error.h"
#include "image/cmyk.h"

namespace deft::image {
namespace {

using Clock = std::chrono::steady_clock;

// libjpeg reports errors through a callback that must not return: it longjmps back to
// run_decoder. Everything that must survive the jump lives in this struct, outside the frame
// that calls setjmp (so none of it is an automatic variable the jump could leave stale).
struct JpegJob {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr err{};
  std::jmp_buf jump{};
  std::string message;  // libjpeg's text for the error or warning that stopped the decode
  bool created = false;
  bool header_read = false;
  preprocess::RgbImage rgb;
  std::vector<uint8_t> strip;  // CMYK rows before conversion

  JpegJob() = default;
  JpegJob(const JpegJob&) = delete;
  JpegJob& operator=(const JpegJob&) = delete;
  ~JpegJob() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

JpegJob& job_of(j_common_ptr cinfo) {
  return *static_cast<JpegJob*>(cinfo->client_data);
}

[[noreturn]] void stop(j_common_ptr cinfo) {
  JpegJob& job = job_of(cinfo);
  char text[JMSG_LENGTH_MAX] = {};
  (*cinfo->err->format_message)(cinfo, text);
  job.message = text;
  std::longjmp(job.jump, 1);
}

void on_error(j_common_ptr cinfo) {
  stop(cinfo);
}

// Warnings: a truncated file is an error (a half image would embed silently, and Pillow refuses
// it too); other corruption is tolerated as libvips does, up to 100 warnings. Trace messages
// (level > 0) are ignored.
void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  ++cinfo->err->num_warnings;
  if (cinfo->err->msg_code == JWRN_JPEG_EOF || cinfo->err->num_warnings >= 100) stop(cinfo);
}

enum class Outcome {
  kDecoded,
  kUnsupported,  // a colour space that is none of grey, RGB, YCbCr, CMYK, YCCK
  kFailedInHeader,
  kFailed,
  kOverLimit,
  kPromisesMoreThanItHolds,
  kPastDeadline
};

// A Huffman-coded scan spends at least one bit on every block of every component it codes (a
// DC code, or a progressive DC scan's refinement bit; sequential scans also an end-of-block
// code), and the first scan codes at least one component. So a file with fewer bits than its
// smallest component has blocks cannot hold what its header promises: libjpeg would "decode"
// the rest as grey filler at the cost of the full image. Arithmetic coding can spend less than
// a bit per block and has no such bound (those files keep the pixel limit and the deadline).
bool holds_promised_blocks(const jpeg_decompress_struct& cinfo, size_t file_bytes) {
  if (cinfo.arith_code) return true;
  uint64_t fewest = UINT64_MAX;
  for (int c = 0; c < cinfo.num_components; ++c) {
    const jpeg_component_info& comp = cinfo.comp_info[c];
    fewest = std::min<uint64_t>(fewest, static_cast<uint64_t>(comp.width_in_blocks) *
                                            static_cast<uint64_t>(comp.height_in_blocks));
  }
  return fewest <= 8 * static_cast<uint64_t>(file_bytes);
}

// Pillow reads every CMYK JPEG as "CMYK;I" (Adobe's inverted polarity, "assume adobe
// conventions"), then converts with cmyk2rgb.
void cmyk_rows_to_rgb(const uint8_t* cmyk, uint8_t* rgb, size_t pixels) {
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t* p = cmyk + 4 * i;
    const unsigned k = 255U - p[3];
    for (int c = 0; c < 3; ++c)
      rgb[3 * i + c] = cmyk_channel(255U - p[c], k);
  }
}

// Returns through setjmp when libjpeg fails; job.message says why.
Outcome run_decoder(JpegJob& job, std::span<const std::byte> bytes, const DecodeOptions& options,
                    Clock::time_point deadline) {
  job.cinfo.err = jpeg_std_error(&job.err);
  job.err.error_exit = on_error;
  job.err.emit_message = on_message;
  job.cinfo.client_data = &job;
  if (setjmp(job.jump) != 0) {
    return job.header_read ? Outcome::kFailed : Outcome::kFailedInHeader;
  }
  jpeg_create_decompress(&job.cinfo);
  job.created = true;
  jpeg_mem_src(&job.cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&job.cinfo, TRUE);
  job.header_read = true;
  const int width = static_cast<int>(job.cinfo.image_width);
  const int height = static_cast<int>(job.cinfo.image_height);
  if (static_cast<uint64_t>(width) * static_cast<uint64_t>(height) > options.max_pixels) {
    return Outcome::kOverLimit;
  }
  if (!holds_promised_blocks(job.cinfo, bytes.size())) return Outcome::kPromisesMoreThanItHolds;
  const J_COLOR_SPACE space = job.cinfo.jpeg_color_space;
  const bool cmyk = space == JCS_CMYK || space == JCS_YCCK;
  if (!cmyk && space != JCS_YCbCr && space != JCS_RGB && space != JCS_GRAYSCALE)
    return Outcome::kUnsupported;

  // Pillow's settings, which are libjpeg's defaults: islow DCT, fancy upsampling. libjpeg
  // turns YCCK into CMYK itself. CMYK is not shrunk on load.
  job.cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  job.cinfo.dct_method = JDCT_ISLOW;
  job.cinfo.do_fancy_upsampling = TRUE;
  job.cinfo.scale_num = 1;
  job.cinfo.scale_denom =
      cmyk ? 1U : static_cast<unsigned>(jpeg_shrink_factor(width, height, options));
  jpeg_start_decompress(&job.cinfo);
  job.rgb = preprocess::RgbImage(static_cast<int>(job.cinfo.output_width),
                                 static_cast<int>(job.cinfo.output_height));
  // Straight into the image (CMYK through a strip of 4-channel rows), 16 rows per call; the
  // deadline is checked between calls (a few milliseconds of work at most).
  constexpr unsigned kRowsPerCall = 16;
  const size_t cmyk_row = cmyk ? static_cast<size_t>(job.cinfo.output_width) * 4 : 0;
  job.strip.resize(cmyk_row * kRowsPerCall);
  JSAMPROW rows[kRowsPerCall];
  while (job.cinfo.output_scanline < job.cinfo.output_height) {
    if (Clock::now() > deadline) return Outcome::kPastDeadline;
    const unsigned first = job.cinfo.output_scanline;
    const unsigned count = std::min(kRowsPerCall, job.cinfo.output_height - first);
    for (unsigned i = 0; i < count; ++i) {
      rows[i] = cmyk ? job.strip.data() + i * cmyk_row : job.rgb.row(static_cast<int>(first + i));
    }
    const unsigned got = jpeg_read_scanlines(&job.cinfo, rows, count);
    for (unsigned i = 0; cmyk && i < got; ++i) {
      cmyk_rows_to_rgb(rows[i], job.rgb.row(static_cast<int>(first + i)), job.cinfo.output_width);
    }
  }
  jpeg_finish_decompress(&job.cinfo);
  return Outcome::kDecoded;
}

}  // namespace

preprocess::RgbImage decode_jpeg(std::span<const std::byte> bytes, const DecodeOptions& options) {
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options.timeout_seconds));
  JpegJob job;
  switch (run_decoder(job, bytes, options, deadline)) {
    case Outcome::kDecoded:
      return std::move(job.rgb);
    case Outcome::kUnsupported:
      throw DecodeError(
          fmt::format("JPEG with {} components in colour space {} is not grey, "
                      "RGB, YCbCr, CMYK or YCCK",
                      job.cinfo.num_components, static_cast<int>(job.cinfo.jpeg_color_space)));
    case Outcome::kFailedInHeader:
      throw DecodeError("not a readable JPEG file: " + job.message);
    case Outcome::kFailed:
      throw DecodeError("corrupt or truncated JPEG data: " + job.message);
    case Outcome::kOverLimit: {
      const uint64_t w = job.cinfo.image_width;
      const uint64_t h = job.cinfo.image_height;
      throw DecodeError(
          fmt::format("{}×{} JPEG is {} pixels, over the limit of {} "
                      "(max_image_pixels)",
                      w, h, w * h, options.max_pixels));
    }
    case Outcome::kPromisesMoreThanItHolds:
      throw DecodeError(fmt::format(
          "corrupt or truncated JPEG data: its header promises {}×{} pixels, more than its {} "
          "bytes can hold",
          job.cinfo.image_width, job.cinfo.image_height, bytes.size()));
    case Outcome::kPastDeadline:
      throw DecodeError(
          fmt::format("JPEG decode took over {} s (decode_timeout)", options.timeout_seconds));
  }
  ::deft::assert_failed("known outcome", __FILE__, __LINE__, "every outcome is handled");
}

}  // namespace deft::image
