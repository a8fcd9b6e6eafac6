#pragma once
// Pillow-exact resizing of 8-bit RGB images: the output is bit-identical to
// PIL.Image.resize((width, height), resample) (box=None, reducing_gap=None) on an RGB image, which is
// what Hugging Face's image_transforms.resize calls for uint8 input.
#include <cstdint>
#include <string_view>

#include "vlm/image/image.hpp"

namespace vlm {

// Values are PIL's integer codes, as written in preprocessor_config.json ("resample": 3 = BICUBIC).
enum class Resample : int {
  Nearest = 0,
  Lanczos = 1,
  Bilinear = 2,
  Bicubic = 3,
  Box = 4,
  Hamming = 5,
};

// Error for a code PIL does not define.
Resample resample_from_pil_code(int64_t code);
std::string_view resample_name(Resample filter);

// width, height >= 1 (Error otherwise). Same size returns a copy, as PIL does.
Image resize(const Image& image, int width, int height, Resample filter);

}  // namespace vlm
