#include "vlm/image/pixels.hpp"

#include <vector>

#include "vlm/util/error.hpp"

namespace vlm {

namespace {

std::array<float, 3> per_channel(const ConfigView& view, std::string_view key, std::array<float, 3> fallback) {
  if (!view.has(key)) return fallback;
  if (view.json()[std::string(key)].is_number()) {
    const float value = view.get<float>(key);
    return {value, value, value};
  }
  const auto values = view.get<std::vector<double>>(key);
  if (values.size() != 3) fail("{}: expected 3 values (one per RGB channel), found {}", view.where(key), values.size());
  return {float(values[0]), float(values[1]), float(values[2])};
}

// One 8-bit sample through transformers' dtype path (this file is compiled with -ffp-contract=off so that
// the subtraction and division stay separately rounded float32 operations, as numpy does them).
struct SampleTransform {
  bool do_rescale;
  double rescale_factor;
  bool do_normalize;
  float mean;
  float std;
  float operator()(uint8_t sample) const {
    float value = do_rescale ? float(double(sample) * rescale_factor) : float(sample);
    if (do_normalize) value = (value - mean) / std;
    return value;
  }
};

}  // namespace

PixelNormalization PixelNormalization::from(const ConfigView& view, PixelNormalization c) {
  c.do_rescale = view.get_or("do_rescale", c.do_rescale);
  c.rescale_factor = view.get_or("rescale_factor", c.rescale_factor);
  c.do_normalize = view.get_or("do_normalize", c.do_normalize);
  c.mean = per_channel(view, "image_mean", c.mean);
  c.std = per_channel(view, "image_std", c.std);
  for (const float s : c.std)
    if (c.do_normalize && s == 0.f) fail("{}: image_std must not be 0", view.where("image_std"));
  return c;
}

void write_pixels(const Image& image, const PixelNormalization& norm, ChannelLayout layout, float* out) {
  const size_t pixels = size_t(image.width) * size_t(image.height);
  if (image.rgb.size() != pixels * 3)
    fail("{}: image buffer holds {} bytes, expected {}x{}x3", image.source, image.rgb.size(), image.width,
         image.height);
  // An 8-bit sample has 256 values: tabulate each channel's transform once.
  float table[3][256];
  for (int c = 0; c < 3; ++c) {
    const SampleTransform transform{norm.do_rescale, norm.rescale_factor, norm.do_normalize, norm.mean[size_t(c)],
                                    norm.std[size_t(c)]};
    for (int v = 0; v < 256; ++v) table[c][v] = transform(uint8_t(v));
  }
  const uint8_t* rgb = image.rgb.data();
  if (layout == ChannelLayout::HWC) {
    for (size_t p = 0; p < pixels; ++p)
      for (size_t c = 0; c < 3; ++c) out[p * 3 + c] = table[c][rgb[p * 3 + c]];
    return;
  }
  for (size_t c = 0; c < 3; ++c) {
    float* plane = out + c * pixels;
    for (size_t p = 0; p < pixels; ++p) plane[p] = table[c][rgb[p * 3 + c]];
  }
}

Tensor to_pixel_tensor(const Image& image, const PixelNormalization& norm, ChannelLayout layout) {
  const Shape shape = layout == ChannelLayout::CHW ? Shape{3, image.height, image.width}
                                                   : Shape{image.height, image.width, 3};
  Tensor out = Tensor::zeros(shape, DType::F32);
  write_pixels(image, norm, layout, out.data<float>());
  return out;
}

}  // namespace vlm
