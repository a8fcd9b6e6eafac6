#pragma once
#include "vlm/image/image.hpp"

namespace vlm::image_detail {

// PIL's NEAREST resize, which does not go through the convolution resampler but through an affine scale
// (ImagingScaleAffine): source coordinates are accumulated step by step in double precision from half a
// step, truncated; anything that falls outside the source is black.
Image resize_nearest(const Image& image, int width, int height);

}  // namespace vlm::image_detail
