#pragma once
// Idefics2ImageProcessor (transformers v4.47.1): RGB; optionally each image split into its four quarters
// plus itself (before resizing); each resized so its longest edge is at most size.longest_edge and each
// edge at least size.shortest_edge (Pillow-exact, the configured resample); rescale, normalise; zero-padded
// at the bottom and right to the largest image of the batch, with pixel_attention_mask marking real pixels;
// prompts with fewer images get all-zero images.
//   pixel_values [B, images, 3, H, W] f32, pixel_attention_mask [B, images, H, W] i64.
#include <vector>

#include "vlm/image/clip_image_processor.hpp"
#include "vlm/image/pixels.hpp"
#include "vlm/image/resize.hpp"
#include "vlm/model/components.hpp"

namespace vlm::idefics2 {

struct ImageProcessorConfig {
  bool do_resize = true;
  int64_t shortest_edge = 378, longest_edge = 980;
  Resample resample = Resample::Bilinear;
  bool do_pad = true;
  bool do_image_splitting = false;
  PixelNormalization normalization{true, 1.0 / 255.0, true, {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
  static ImageProcessorConfig from(const ConfigView& preprocessor_config);
};

// get_resize_output_image_size: the long edge scaled down to longest_edge (the other by int() of the
// aspect ratio), then each edge raised to at least shortest_edge (aspect not kept).
ImageSize resized_size(int64_t height, int64_t width, int64_t shortest_edge, int64_t longest_edge);

class ImageProcessor final : public vlm::ImageProcessor {
 public:
  explicit ImageProcessor(ImageProcessorConfig config) : config_(std::move(config)) {}
  // All images as one prompt (the image-feature cache encodes them one by one).
  TensorMap preprocess(std::span<const Image> images, std::span<const Video> videos) const override;
  // One list of images per prompt.
  TensorMap preprocess(const std::vector<std::vector<Image>>& prompts) const;
  // Images (crops included) one input image becomes.
  int64_t images_per_image() const { return config_.do_image_splitting ? 5 : 1; }
  const ImageProcessorConfig& config() const { return config_; }

 private:
  std::vector<Image> transform(const Image& image) const;  // split + resize, still 8-bit
  ImageProcessorConfig config_;
};

}  // namespace vlm::idefics2
