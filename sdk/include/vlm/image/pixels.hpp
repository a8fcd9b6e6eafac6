#pragma once
// 8-bit images -> float32 pixel tensors, with the numerics of Hugging Face transformers
// (image_transforms.rescale / normalize, v4.47):
//   rescale:   float32(float64(x) * rescale_factor)
//   normalize: (x - float32(mean)) / float32(std), each operation in float32
// so results match the reference bit for bit (not merely within tolerance).
#include <array>

#include "vlm/image/image.hpp"
#include "vlm/io/config.hpp"
#include "vlm/tensor/tensor.hpp"

namespace vlm {

struct PixelNormalization {
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;
  bool do_normalize = true;
  std::array<float, 3> mean{0.f, 0.f, 0.f};
  std::array<float, 3> std{1.f, 1.f, 1.f};
  // do_rescale, rescale_factor, do_normalize, image_mean, image_std from a preprocessor_config.json (one
  // value for every channel or one per channel, cast to float32 as HF does); absent keys keep `defaults`.
  static PixelNormalization from(const ConfigView& view, PixelNormalization defaults);
};

enum class ChannelLayout { CHW, HWC };

// f32 [3, H, W] (CHW) or [H, W, 3] (HWC).
Tensor to_pixel_tensor(const Image& image, const PixelNormalization& norm, ChannelLayout layout = ChannelLayout::CHW);

// The same written into caller-owned memory of 3 * width * height floats (avoids a copy when frames are
// stacked into one tensor).
void write_pixels(const Image& image, const PixelNormalization& norm, ChannelLayout layout, float* out);

}  // namespace vlm
