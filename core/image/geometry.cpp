#include "vlm/image/geometry.hpp"

#include <algorithm>
#include <cstring>

#include "vlm/util/error.hpp"

namespace vlm {

namespace {

// Python's // for ints (rounds toward negative infinity), which center_crop's offsets use.
int floor_div(int a, int b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }
int ceil_half(int a) { return (a + 1) / 2; }  // a >= 0

Image blank(int width, int height, const std::string& source, std::array<uint8_t, 3> fill) {
  Image out;
  out.width = width;
  out.height = height;
  out.source = source;
  out.rgb.resize(size_t(width) * size_t(height) * 3);
  for (size_t p = 0; p < out.rgb.size(); p += 3) std::memcpy(&out.rgb[p], fill.data(), 3);
  return out;
}

// Copies the rectangle of `from` at (left, top) of size width x height to `to` at (to_left, to_top).
void copy_rect(const Image& from, int left, int top, int width, int height, Image& to, int to_left, int to_top) {
  for (int y = 0; y < height; ++y)
    std::memcpy(&to.rgb[(size_t(to_top + y) * size_t(to.width) + size_t(to_left)) * 3],
                &from.rgb[(size_t(top + y) * size_t(from.width) + size_t(left)) * 3], size_t(width) * 3);
}

}  // namespace

Image crop(const Image& image, int left, int top, int width, int height) {
  if (width < 1 || height < 1 || left < 0 || top < 0 || left + width > image.width || top + height > image.height)
    fail("{}: crop {}x{} at ({}, {}) does not fit in the {}x{} image", image.source, width, height, left, top,
         image.width, image.height);
  Image out = blank(width, height, image.source, {0, 0, 0});
  copy_rect(image, left, top, width, height, out, 0, 0);
  return out;
}

Image center_crop(const Image& image, int width, int height) {
  if (width < 1 || height < 1) fail("{}: center crop to {}x{}: sizes must be >= 1", image.source, width, height);
  const int top = floor_div(image.height - height, 2);
  const int left = floor_div(image.width - width, 2);
  if (top >= 0 && left >= 0 && top + height <= image.height && left + width <= image.width)
    return crop(image, left, top, width, height);
  // The crop reaches outside: the image sits on a zero canvas at least as large as the crop, offset by
  // ceil(missing / 2), and the window [top, top + height) is shifted by that same offset.
  const int canvas_height = std::max(height, image.height);
  const int canvas_width = std::max(width, image.width);
  const int pad_top = ceil_half(canvas_height - image.height);
  const int pad_left = ceil_half(canvas_width - image.width);
  Image canvas = blank(canvas_width, canvas_height, image.source, {0, 0, 0});
  copy_rect(image, 0, 0, image.width, image.height, canvas, pad_left, pad_top);
  const int y0 = std::max(0, top + pad_top), y1 = std::min(canvas_height, top + pad_top + height);
  const int x0 = std::max(0, left + pad_left), x1 = std::min(canvas_width, left + pad_left + width);
  return crop(canvas, x0, y0, x1 - x0, y1 - y0);
}

Image pad(const Image& image, const Padding& padding, std::array<uint8_t, 3> fill) {
  if (padding.top < 0 || padding.bottom < 0 || padding.left < 0 || padding.right < 0)
    fail("{}: padding must not be negative", image.source);
  Image out = blank(image.width + padding.left + padding.right, image.height + padding.top + padding.bottom,
                    image.source, fill);
  copy_rect(image, 0, 0, image.width, image.height, out, padding.left, padding.top);
  return out;
}

Tensor pad_spatial(const Tensor& pixels, const Padding& padding, float fill) {
  if (!pixels.is_host() || pixels.dtype() != DType::F32 || pixels.rank() < 2)
    fail("pad_spatial: expected an f32 host tensor [..., H, W], got {} {}", dtype_name(pixels.dtype()),
         pixels.shape().str());
  if (padding.top < 0 || padding.bottom < 0 || padding.left < 0 || padding.right < 0)
    fail("pad_spatial: padding must not be negative");
  const int64_t height = pixels.dim(-2), width = pixels.dim(-1);
  Shape shape = pixels.shape();
  shape[-2] = height + padding.top + padding.bottom;
  shape[-1] = width + padding.left + padding.right;
  Tensor out = Tensor::zeros(shape, DType::F32);
  const int64_t planes = height * width == 0 ? 0 : pixels.numel() / (height * width);
  const int64_t out_width = shape[-1], out_plane = shape[-2] * shape[-1];
  float* dst = out.data<float>();
  std::fill(dst, dst + out.numel(), fill);
  const float* src = pixels.data<float>();
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t y = 0; y < height; ++y)
      std::memcpy(dst + p * out_plane + (y + padding.top) * out_width + padding.left,
                  src + (p * height + y) * width, size_t(width) * sizeof(float));
  return out;
}

}  // namespace vlm
