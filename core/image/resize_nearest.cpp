#include "resize_nearest.hpp"

#include <cstring>
#include <vector>

namespace vlm::image_detail {

namespace {

// Source index of every output position. The running sum (rather than (i + 0.5) * step) is deliberate:
// its rounding error is part of PIL's result. -1 marks "outside the source".
std::vector<int> source_indices(int input_size, int output_size) {
  const double step = double(float(input_size)) / output_size;
  std::vector<int> indices(static_cast<size_t>(output_size));
  double position = step * 0.5;
  for (int i = 0; i < output_size; ++i) {
    const int index = position < 0.0 ? -1 : int(position);
    indices[size_t(i)] = (index >= 0 && index < input_size) ? index : -1;
    position += step;
  }
  return indices;
}

}  // namespace

Image resize_nearest(const Image& image, int width, int height) {
  const std::vector<int> columns = source_indices(image.width, width);
  const std::vector<int> rows = source_indices(image.height, height);
  Image out;
  out.width = width;
  out.height = height;
  out.source = image.source;
  out.rgb.assign(size_t(width) * size_t(height) * 3, 0);
  for (int y = 0; y < height; ++y) {
    if (rows[size_t(y)] < 0) continue;
    const uint8_t* in_row = image.rgb.data() + size_t(rows[size_t(y)]) * size_t(image.width) * 3;
    uint8_t* out_row = out.rgb.data() + size_t(y) * size_t(width) * 3;
    for (int x = 0; x < width; ++x) {
      if (columns[size_t(x)] < 0) continue;
      std::memcpy(out_row + size_t(x) * 3, in_row + size_t(columns[size_t(x)]) * 3, 3);
    }
  }
  return out;
}

}  // namespace vlm::image_detail
