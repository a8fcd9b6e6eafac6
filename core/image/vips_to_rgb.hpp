#pragma once
// A lazily-decoded libvips image -> vlm::Image (8-bit RGB, PIL convert("RGB") semantics; internal).
#include <string>

#include <vips/vips8>

#include "vlm/image/image.hpp"
#include "vlm/image/load.hpp"

namespace vlm::image_detail {

// `decoded` has only its header read. The pixel limit is checked first; then pixels are decoded straight
// into the result. libvips errors (corrupt, truncated) become vlm::Error naming `source`.
Image vips_to_rgb(const vips::VImage& decoded, const std::string& source, const ImageLoadOptions& options);
// The pixel limit alone (PIL's decompression-bomb guard), from the header.
void check_pixel_limit(const vips::VImage& decoded, const std::string& source, const ImageLoadOptions& options);

}  // namespace vlm::image_detail
