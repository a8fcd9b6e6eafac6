#pragma once
// libvips set-up shared by every decoder in vlm_core (internal).
#include <string>

namespace vlm::image_detail {

// Starts libvips once per process (thread-safe): loaders not marked safe for untrusted input are blocked
// (except PPM),
// libvips' own worker threads are limited to one (callers parallelise across images), and the operation
// cache is off (it would keep files open and hold decoded pixels). Error if libvips cannot start.
void ensure_vips_started();

// libvips' pending error text (its error buffer is global), trimmed, then cleared.
std::string take_vips_error();

}  // namespace vlm::image_detail
