#include "vips_to_rgb.hpp"

#include <new>
#include <vector>

#include "vips_runtime.hpp"
#include "vlm/util/error.hpp"

namespace vlm::image_detail {

namespace {

using vips::VImage;

// PIL's cmyk2rgb: with nk = 255 - k, channel = nk - nk * c / 255 (rounded division by 255).
uint8_t pil_cmyk_channel(int c, int k) {
  const int nk = 255 - k;
  const int product = c * nk + 128;
  const int scaled = ((product >> 8) + product) >> 8;
  const int value = nk - scaled;
  return uint8_t(value < 0 ? 0 : value > 255 ? 255 : value);
}

// 16-bit samples keep their high byte (PIL's 16-bit RGB raw modes do the same); other non-8-bit formats
// are clamped to 0..255.
VImage to_8bit(const VImage& image) {
  if (image.format() == VIPS_FORMAT_UCHAR) return image;
  if (image.format() == VIPS_FORMAT_USHORT) return (image >> 8).cast(VIPS_FORMAT_UCHAR);
  return image.cast(VIPS_FORMAT_UCHAR);
}

bool is_colour_space_other_than_rgb(VipsInterpretation interpretation) {
  switch (interpretation) {
    case VIPS_INTERPRETATION_LAB: case VIPS_INTERPRETATION_LABQ: case VIPS_INTERPRETATION_LABS:
    case VIPS_INTERPRETATION_LCH: case VIPS_INTERPRETATION_CMC: case VIPS_INTERPRETATION_XYZ:
    case VIPS_INTERPRETATION_YXY: case VIPS_INTERPRETATION_HSV: case VIPS_INTERPRETATION_scRGB:
      return true;
    default:
      return false;
  }
}

// Renders `image` (bands x 8-bit) into `buffer` of width * height * bands bytes.
void render_into(const VImage& image, std::vector<uint8_t>& buffer) {
  buffer.resize(size_t(image.width()) * size_t(image.height()) * size_t(image.bands()));
  VImage target = VImage::new_from_memory(buffer.data(), buffer.size(), image.width(), image.height(),
                                          image.bands(), VIPS_FORMAT_UCHAR);
  image.write(target);
}

Image decode_pixels(const VImage& decoded, const std::string& source) {
  Image out;
  out.width = decoded.width();
  out.height = decoded.height();
  out.source = source;
  VImage image = decoded;
  if (image.interpretation() == VIPS_INTERPRETATION_CMYK && image.bands() >= 4) {
    std::vector<uint8_t> cmyk;
    render_into(to_8bit(image.extract_band(0, VImage::option()->set("n", 4))), cmyk);
    out.rgb.resize(size_t(out.width) * size_t(out.height) * 3);
    for (size_t p = 0, n = size_t(out.width) * size_t(out.height); p < n; ++p)
      for (size_t c = 0; c < 3; ++c) out.rgb[p * 3 + c] = pil_cmyk_channel(cmyk[p * 4 + c], cmyk[p * 4 + 3]);
    return out;
  }
  if (is_colour_space_other_than_rgb(image.interpretation())) image = image.colourspace(VIPS_INTERPRETATION_sRGB);
  image = to_8bit(image);
  if (image.bands() < 3) {  // grey (+ alpha): replicate the grey band, drop alpha
    const VImage grey = image.extract_band(0);
    image = VImage::bandjoin(std::vector<VImage>{grey, grey, grey});
  } else if (image.bands() > 3) {  // RGBA and other extra bands: dropped, not composited (as PIL)
    image = image.extract_band(0, VImage::option()->set("n", 3));
  }
  render_into(image, out.rgb);
  return out;
}

}  // namespace

void check_pixel_limit(const VImage& decoded, const std::string& source, const ImageLoadOptions& options) {
  const int64_t pixels = int64_t(decoded.width()) * int64_t(decoded.height());
  if (options.max_pixels > 0 && pixels > options.max_pixels)
    fail("{}: image is {}x{} = {} pixels, above the limit of {} (a decompression-bomb guard, as PIL's; raise "
         "ImageLoadOptions::max_pixels to allow it)",
         source, decoded.width(), decoded.height(), pixels, options.max_pixels);
}

Image vips_to_rgb(const VImage& decoded, const std::string& source, const ImageLoadOptions& options) {
  check_pixel_limit(decoded, source, options);
  if (options.request) options.request->charge(int64_t(decoded.width()) * int64_t(decoded.height()), source);
  try {
    return decode_pixels(decoded, source);
  } catch (const vips::VError&) {
    fail("{}: cannot decode image: {}", source, take_vips_error());
  } catch (const std::bad_alloc&) {
    fail("{}: out of memory decoding a {}x{} image", source, decoded.width(), decoded.height());
  }
}

}  // namespace vlm::image_detail
