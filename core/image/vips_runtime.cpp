#include "vips_runtime.hpp"

#include <mutex>

#include <vips/vips8>

#include "vlm/util/error.hpp"

namespace vlm::image_detail {

void ensure_vips_started() {
  static std::once_flag once;
  static bool started = false;
  std::call_once(once, [] {
    if (VIPS_INIT("vlm") != 0) return;
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    vips_block_untrusted_set(TRUE);
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
