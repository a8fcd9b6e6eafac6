#include "vlm/image/pixels.hpp"

#include "vlm/util/error.hpp"

namespace vlm {

namespace {

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
