#pragma once
// Decoding image files (libvips) into vlm::Image, converted to 8-bit RGB the way PIL's
// Image.open(...).convert("RGB") does, since Hugging Face image processors start from that:
//   * RGBA / LA: alpha is dropped (PIL does not composite onto a background);
//   * greyscale: replicated into three channels; palette: expanded;
//   * CMYK: PIL's formula r = (255-k) - (255-k)*c/255 (no ICC profile);
//   * 16-bit: the high byte (PIL does this for 16-bit RGB; for 16-bit greyscale PIL clips values
//     above 255 instead, which whitens the image: vlm keeps the high byte there too);
//   * no EXIF autorotation and no ICC conversion, like PIL;
//   * multi-frame files (GIF, TIFF): the first frame.
// Formats: PNG, JPEG, WebP, GIF, TIFF, HEIF/AVIF, PPM/PGM/PBM. Loaders libvips does not consider safe for
// untrusted input (ImageMagick, hence BMP; PDF, SVG, ...) are disabled.
// Errors are vlm::Error naming the file: missing, unreadable, not an image, truncated or corrupt, or
// larger than `max_pixels` (checked from the header, before any pixel is decoded), or past the request's
// pixel tally (`request`, charged by load_image / decode_image, not by probe_image).
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vlm/image/image.hpp"

namespace vlm {

// The pixels of every image and video frame of one request together (ImageLoadOptions::request). Each is
// charged from its header before it is decoded, so a request of many images, each within max_pixels,
// still cannot take more memory than one limit allows. One tally per request; not thread-safe.
class RequestPixels {
 public:
  static constexpr int64_t kDefaultLimit = 400'000'000;  // 1.2 GB of RGB: 95 images of 2048x2048
  explicit RequestPixels(int64_t limit = kDefaultLimit) : limit_(limit) {}
  // Error naming `source` when the request would go past the limit (<= 0: no limit).
  void charge(int64_t pixels, const std::string& source);
  int64_t used() const { return used_; }

 private:
  int64_t limit_;
  int64_t used_ = 0;
};

struct ImageLoadOptions {
  // PIL raises DecompressionBombError above 2 * Image.MAX_IMAGE_PIXELS = 2 * 89,478,485 pixels.
  static constexpr int64_t kPilPixelLimit = 178'956'970;
  static constexpr int64_t kDefaultMaxVideoFrames = 2048;
  int64_t max_pixels = kPilPixelLimit;  // width * height above this is refused; <= 0 disables the guard
  // A folder of more frames than this is refused before any is decoded (<= 0: no limit).
  int64_t max_video_frames = kDefaultMaxVideoFrames;
  RequestPixels* request = nullptr;  // the request's tally, charged with each image loaded; null = none
};

Image load_image(const std::filesystem::path& path, const ImageLoadOptions& options = {});

// The same from an encoded file held in memory (e.g. received over a network); `source` names it in errors.
Image decode_image(std::span<const uint8_t> encoded, const std::string& source,
                   const ImageLoadOptions& options = {});

// Reads only an image's header (format, width, height), no pixels: a cheap check of many files before a
// long run. The same errors as load_image / decode_image for a missing file, something that is not an
// image, or one larger than max_pixels; a file corrupt past its header passes.
struct ImageHeader {
  int width = 0, height = 0;
};
ImageHeader probe_image(const std::filesystem::path& path, const ImageLoadOptions& options = {});
ImageHeader probe_image(std::span<const uint8_t> encoded, const std::string& source, const ImageLoadOptions& options = {});

// The bytes of a base64 data: URI ("data:image/png;base64,..."); an Error for any other kind of URI.
std::string data_uri_bytes(std::string_view uri);

// The image files of `folder` (by extension: png, jpg, jpeg, webp, gif, tif, tiff, ppm, pgm, pnm; hidden
// files skipped), in natural name order (img_2 before img_10). Errors: not a folder, no image file.
std::vector<std::filesystem::path> list_image_files(const std::filesystem::path& folder);

// Every image file of `folder` (by extension: png, jpg, jpeg, webp, gif, tif, tiff, ppm, pgm, pnm),
// in natural name order (frame_2 before frame_10), as the frames of one video. All frames must have the
// same size. fps is 0 (unknown). Errors: not a folder, no frames, a frame that fails to load, sizes differ.
Video load_video_frames(const std::filesystem::path& folder, const ImageLoadOptions& options = {});

// Natural ordering of names: runs of digits compare by value, everything else byte by byte.
bool natural_less(const std::string& a, const std::string& b);

}  // namespace vlm
