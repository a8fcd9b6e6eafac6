#pragma once
// Crops and constant padding, with the semantics of Hugging Face's image_transforms where one exists.
#include <array>
#include <cstdint>

#include "vlm/image/image.hpp"
#include "vlm/tensor/tensor.hpp"

namespace vlm {

// The rectangle [left, left+width) x [top, top+height); Error unless it lies inside the image and is non-empty.
Image crop(const Image& image, int left, int top, int width, int height);

// image_transforms.center_crop: top = (H - height) // 2 (floor division), left likewise; when the crop
// reaches outside the image, the image is first zero-padded (ceil of half the missing size before it) and
// the crop taken from that, so the result is always width x height.
Image center_crop(const Image& image, int width, int height);

struct Padding {
  int top = 0;
  int bottom = 0;
  int left = 0;
  int right = 0;
};

// Constant padding of an 8-bit image (image_transforms.pad, mode=CONSTANT).
Image pad(const Image& image, const Padding& padding, std::array<uint8_t, 3> fill = {0, 0, 0});

// Constant padding of the last two dimensions of an f32 host tensor [..., H, W] (e.g. normalised CHW
// pixels padded to a batch's largest size, as Idefics2 does after normalisation).
Tensor pad_spatial(const Tensor& pixels, const Padding& padding, float fill = 0.f);

}  // namespace vlm
