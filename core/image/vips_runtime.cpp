#include "vips_runtime.hpp"

#include <mutex>

#include <spdlog/spdlog.h>
#include <vips/vips8>

#include "vlm/util/error.hpp"

namespace vlm::image_detail {

namespace {

// libvips reports decoding trouble twice: as a GLib warning on stderr and in its error buffer, which
// becomes the vlm::Error. The warnings go to the debug log instead of cluttering the user's terminal.
void log_vips_warning(const gchar* domain, GLogLevelFlags, const gchar* message, gpointer) {
  spdlog::debug("{}: {}", domain ? domain : "libvips", message ? message : "");
}

}  // namespace

void ensure_vips_started() {
  static std::once_flag once;
  static bool started = false;
  std::call_once(once, [] {
    if (VIPS_INIT("vlm") != 0) return;
    g_log_set_handler("VIPS", GLogLevelFlags(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE), log_vips_warning, nullptr);
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    vips_block_untrusted_set(TRUE);
    // PPM/PGM/PBM are plain headers + raw samples (ffmpeg's frame dumps); libvips leaves them out of its
    // fuzzed set only for their rarity. Everything else that stays enabled (PNG, JPEG, WebP, GIF, TIFF,
    // HEIF/AVIF) is fuzzed upstream. BMP would need ImageMagick, which stays blocked.
    vips_operation_block_set("VipsForeignLoadPpm", FALSE);
    started = true;
  });
  if (!started) fail("libvips failed to start: {}", take_vips_error());
}

std::string take_vips_error() {
  std::string text = vips_error_buffer();
  vips_error_clear();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text)
    if (c == '\n') c = ';';
  return text.empty() ? "unknown libvips error" : text;
}

}  // namespace vlm::image_detail
