// Pillow's two-pass separable resampling (ImagingResampleInner) for 8-bit RGB: a horizontal pass over only
// the source rows the vertical pass will read, then a vertical pass; each pass skipped when its axis keeps
// its size. Integer fixed-point sums, so the output is bit-identical to PIL.
#include "vlm/image/resize.hpp"

#include <algorithm>
#include <vector>

#include "resample_coefficients.hpp"
#include "resize_nearest.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

using image_detail::AxisWeights;
using image_detail::fixed_point_to_u8;
using image_detail::kWeightFractionBits;

Resample resample_from_pil_code(int64_t code) {
  if (code < 0 || code > 5)
    fail("unknown resampling filter {} (PIL codes: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming)",
         code);
  return Resample(int(code));
}

std::string_view resample_name(Resample filter) {
  switch (filter) {
    case Resample::Nearest: return "nearest";
    case Resample::Lanczos: return "lanczos";
    case Resample::Bilinear: return "bilinear";
    case Resample::Bicubic: return "bicubic";
    case Resample::Box: return "box";
    case Resample::Hamming: return "hamming";
  }
  return "?";
}

namespace {

constexpr int32_t kRoundingHalf = 1 << (kWeightFractionBits - 1);

// Resamples rows [first_row, first_row + row_count) of `in` horizontally to `weights`' output width.
std::vector<uint8_t> resample_rows(const Image& in, int first_row, int row_count, int out_width,
                                   const AxisWeights& weights) {
  std::vector<uint8_t> out(size_t(row_count) * size_t(out_width) * 3);
  for (int y = 0; y < row_count; ++y) {
    const uint8_t* in_row = in.rgb.data() + size_t(first_row + y) * size_t(in.width) * 3;
    uint8_t* out_pixel = out.data() + size_t(y) * size_t(out_width) * 3;
    for (int x = 0; x < out_width; ++x, out_pixel += 3) {
      const int32_t* k = &weights.weights[size_t(x) * size_t(weights.taps)];
      const uint8_t* src = in_row + size_t(weights.first_input[size_t(x)]) * 3;
      const int count = weights.input_count[size_t(x)];
      int32_t r = kRoundingHalf, g = kRoundingHalf, b = kRoundingHalf;
      for (int i = 0; i < count; ++i, src += 3) {
        r += int32_t(src[0]) * k[i];
        g += int32_t(src[1]) * k[i];
        b += int32_t(src[2]) * k[i];
      }
      out_pixel[0] = fixed_point_to_u8(r);
      out_pixel[1] = fixed_point_to_u8(g);
      out_pixel[2] = fixed_point_to_u8(b);
    }
  }
  return out;
}

// Resamples `in` (rows of `row_bytes` bytes; `weights`' first_input relative to `in`'s first row)
// vertically. Sums a whole output row at a time (integer sums: order does not change the result).
std::vector<uint8_t> resample_columns(const uint8_t* in, size_t row_bytes, int out_height,
                                      const AxisWeights& weights, int first_row_offset) {
  std::vector<uint8_t> out(size_t(out_height) * row_bytes);
  std::vector<int32_t> sums(row_bytes);
  for (int y = 0; y < out_height; ++y) {
    const int32_t* k = &weights.weights[size_t(y) * size_t(weights.taps)];
    const int first = weights.first_input[size_t(y)] - first_row_offset;
    const int count = weights.input_count[size_t(y)];
    std::fill(sums.begin(), sums.end(), kRoundingHalf);
    for (int i = 0; i < count; ++i) {
      const uint8_t* src = in + size_t(first + i) * row_bytes;
      const int32_t w = k[i];
      for (size_t j = 0; j < row_bytes; ++j) sums[j] += int32_t(src[j]) * w;
    }
    uint8_t* dst = out.data() + size_t(y) * row_bytes;
    for (size_t j = 0; j < row_bytes; ++j) dst[j] = fixed_point_to_u8(sums[j]);
  }
  return out;
}

}  // namespace

Image resize(const Image& image, int width, int height, Resample filter) {
  if (width < 1 || height < 1) fail("{}: cannot resize to {}x{}: sizes must be >= 1", image.source, width, height);
  if (image.width < 1 || image.height < 1) fail("{}: cannot resize an empty image", image.source);
  if (image.rgb.size() != size_t(image.width) * size_t(image.height) * 3)
    fail("{}: image buffer holds {} bytes, expected {}x{}x3", image.source, image.rgb.size(), image.width,
         image.height);
  if (width == image.width && height == image.height) return image;
  if (filter == Resample::Nearest) return image_detail::resize_nearest(image, width, height);

  const AxisWeights vertical = image_detail::compute_axis_weights(image.height, height, filter);
  // Source rows the vertical pass reads: the horizontal pass need not touch the others.
  const int first_row = vertical.first_input.front();
  const int end_row = vertical.first_input.back() + vertical.input_count.back();

  Image out;
  out.width = width;
  out.height = height;
  out.source = image.source;
  if (width != image.width) {
    const AxisWeights horizontal = image_detail::compute_axis_weights(image.width, width, filter);
    std::vector<uint8_t> rows = resample_rows(image, first_row, end_row - first_row, width, horizontal);
    if (height == image.height) {
      out.rgb = std::move(rows);
      return out;
    }
    out.rgb = resample_columns(rows.data(), size_t(width) * 3, height, vertical, first_row);
    return out;
  }
  out.rgb = resample_columns(image.rgb.data(), size_t(width) * 3, height, vertical, 0);
  return out;
}

}  // namespace vlm
