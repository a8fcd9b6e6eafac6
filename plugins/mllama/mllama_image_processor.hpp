#pragma once
// MllamaImageProcessor (transformers v4.47.1): RGB; the tiled canvas among the supported aspect ratios that
// needs the least scaling (get_optimal_tiled_canvas); the image resized to fit it without exceeding its own
// size unless an edge is below one tile (Pillow-exact); padded at the bottom and right with 0 before
// normalising; rescale, normalise; split into row-major tiles.
//   pixel_values [B, images, max_tiles, 3, tile, tile] f32 (unused tiles and padding images 0),
//   aspect_ratio_ids [B, images] i64 (1-based index of the canvas; 0 = padding image),
//   aspect_ratio_mask [B, images, max_tiles] i64, num_tiles [B, images] i64.
#include <utility>
#include <vector>

#include "vlm/image/clip_image_processor.hpp"
#include "vlm/image/pixels.hpp"
#include "vlm/image/resize.hpp"
#include "vlm/model/components.hpp"

namespace vlm::mllama {

struct ImageProcessorConfig {
  int64_t tile = 224;  // size {height, width}: square
  int64_t max_image_tiles = 4;
  Resample resample = Resample::Bilinear;
  PixelNormalization normalization{true, 1.0 / 255.0, true, {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
  static ImageProcessorConfig from(const ConfigView& preprocessor_config);
};

// get_optimal_tiled_canvas: the canvas (height, width) in pixels.
ImageSize optimal_canvas(int64_t height, int64_t width, int64_t max_tiles, int64_t tile);
// get_image_size_fit_to_canvas.
ImageSize fit_to_canvas(int64_t height, int64_t width, int64_t canvas_height, int64_t canvas_width, int64_t tile);

class ImageProcessor final : public vlm::ImageProcessor {
 public:
  explicit ImageProcessor(ImageProcessorConfig config) : config_(std::move(config)) {}
  // All images as one prompt.
  TensorMap preprocess(std::span<const Image> images, std::span<const Video> videos) const override;
  // One list of images per prompt.
  TensorMap preprocess(const std::vector<std::vector<Image>>& prompts) const;
  const ImageProcessorConfig& config() const { return config_; }

 private:
  ImageProcessorConfig config_;
};

}  // namespace vlm::mllama
