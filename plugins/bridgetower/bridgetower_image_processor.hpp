#pragma once
// BridgeTowerImageProcessor as BridgeTowerProcessor runs it (transformers v4.47.1): RGB; the shortest edge
// resized to size (the longest capped at int(1333 / 800 * size)), both rounded then floored to a multiple of
// size_divisor, Pillow-exact; center crop to crop_size (zero padding where the image is smaller, before
// normalisation); rescale, normalise; batch padding to the largest image and pixel_mask.
//
// The processor always crops: its default images_kwargs pass do_center_crop=True, and the image
// processor's own do_center_crop is never read in 4.47 (a bare expression in preprocess).
#include "vlm/image/pixels.hpp"
#include "vlm/image/resize.hpp"
#include "vlm/io/config.hpp"
#include "vlm/model/components.hpp"

namespace vlm::bridgetower {

struct ImageProcessorConfig {
  bool do_resize = true;
  int64_t shortest_edge = 288, size_divisor = 32, crop = 288;
  Resample resample = Resample::Bicubic;
  PixelNormalization normalization{true, 1.0 / 255.0, true,
                                   {0.48145466f, 0.4578275f, 0.40821073f},   // OPENAI_CLIP_MEAN
                                   {0.26862954f, 0.26130258f, 0.27577711f}};  // OPENAI_CLIP_STD
  static ImageProcessorConfig from(const ConfigView& preprocessor_config);
};

// get_resize_output_image_size of BridgeTower (and ViLT): {height, width}.
struct ResizeTarget {
  int64_t height = 0, width = 0;
};
ResizeTarget resize_target(int64_t height, int64_t width, int64_t shortest_edge, int64_t size_divisor);

class ImageProcessor final : public vlm::ImageProcessor {
 public:
  explicit ImageProcessor(ImageProcessorConfig config) : config_(std::move(config)) {}
  // pixel_values [images, 3, H, W] f32, pixel_mask [images, H, W] i64.
  TensorMap preprocess(std::span<const Image> images, std::span<const Video> videos) const override;
  const ImageProcessorConfig& config() const { return config_; }

 private:
  ImageProcessorConfig config_;
};

}  // namespace vlm::bridgetower
