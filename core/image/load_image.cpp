#include <filesystem>

#include <vips/vips8>

#include "vips_runtime.hpp"
#include "vips_to_rgb.hpp"
#include "vlm/image/load.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

namespace {

// Sequential access: decode top to bottom without keeping the whole file's pixels twice. fail_on=error:
// truncated or corrupt files are errors (PIL raises on them too) rather than grey-filled images.
vips::VOption* strict_sequential_load() {
  return vips::VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL)->set("fail_on", VIPS_FAIL_ON_ERROR);
}

vips::VImage open_file(const std::filesystem::path& path) {
  image_detail::ensure_vips_started();
  const std::string source = path.string();
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (!std::filesystem::exists(status)) fail("{}: no such file", source);
  if (std::filesystem::is_directory(status)) fail("{}: is a folder, not an image file", source);
  if (!std::filesystem::is_regular_file(status)) fail("{}: not a regular file", source);
  try {
    // Through a VSource rather than new_from_file, so that a name containing "[...]" is not parsed as
    // libvips load options; the format is sniffed from the content, never from the extension.
    return vips::VImage::new_from_source(vips::VSource::new_from_file(source.c_str()), "", strict_sequential_load());
  } catch (const vips::VError&) {
    fail("{}: cannot read image: {}", source, image_detail::take_vips_error());
  }
}

vips::VImage open_buffer(std::span<const uint8_t> encoded, const std::string& source) {
  image_detail::ensure_vips_started();
  if (encoded.empty()) fail("{}: empty image data", source);
  try {
    return vips::VImage::new_from_buffer(encoded.data(), encoded.size(), "", strict_sequential_load());
  } catch (const vips::VError&) {
    fail("{}: cannot read image: {}", source, image_detail::take_vips_error());
  }
}

ImageHeader checked_header(const vips::VImage& header, const std::string& source, const ImageLoadOptions& options) {
  image_detail::check_pixel_limit(header, source, options);
  return {header.width(), header.height()};
}

}  // namespace

void RequestPixels::charge(int64_t pixels, const std::string& source) {
  if (limit_ > 0 && pixels > limit_ - used_)
    fail("{}: its {} pixels would bring this request's images to {} pixels, above the limit of {} per request "
         "(RequestPixels); send fewer or smaller images",
         source, pixels, used_ + pixels, limit_);
  used_ += pixels;
}

Image load_image(const std::filesystem::path& path, const ImageLoadOptions& options) {
  return image_detail::vips_to_rgb(open_file(path), path.string(), options);
}

Image decode_image(std::span<const uint8_t> encoded, const std::string& source, const ImageLoadOptions& options) {
  return image_detail::vips_to_rgb(open_buffer(encoded, source), source, options);
}

ImageHeader probe_image(const std::filesystem::path& path, const ImageLoadOptions& options) {
  return checked_header(open_file(path), path.string(), options);
}

ImageHeader probe_image(std::span<const uint8_t> encoded, const std::string& source, const ImageLoadOptions& options) {
  return checked_header(open_buffer(encoded, source), source, options);
}

}  // namespace vlm
