#pragma once
// CLIPImageProcessor (transformers v4.47.1; LLaVA-style checkpoints use it): RGB, resize so the
// shortest edge is size["shortest_edge"] (Pillow-exact, aspect kept) or to exactly size height x width,
// center crop to crop_size, rescale, normalise. Output: pixel_values [images, 3, H, W] f32.
#include <optional>

#include "vlm/image/pixels.hpp"
#include "vlm/image/resize.hpp"
#include "vlm/model/components.hpp"

namespace vlm {

struct ClipImageProcessorConfig {
  bool do_resize = true;
  // size {"shortest_edge": n} (aspect kept) or {"height", "width"} (exact); CLIP's default is 224.
  std::optional<int64_t> shortest_edge = 224;
  int64_t resize_height = 0, resize_width = 0;  // used when shortest_edge is empty
  Resample resample = Resample::Bicubic;
  bool do_center_crop = true;
  int64_t crop_height = 224, crop_width = 224;
  PixelNormalization normalization{true, 1.0 / 255.0, true,
                                   {0.48145466f, 0.4578275f, 0.40821073f},   // OPENAI_CLIP_MEAN
                                   {0.26862954f, 0.26130258f, 0.27577711f}};  // OPENAI_CLIP_STD

  // From preprocessor_config.json; absent keys keep CLIPImageProcessor's defaults.
  // `defaults`: another processor class's defaults on the same keys (BlipImageProcessor: 384x384, no crop).
  static ClipImageProcessorConfig from(const ConfigView& preprocessor_config, ClipImageProcessorConfig defaults);
  static ClipImageProcessorConfig from(const ConfigView& preprocessor_config);
};

// get_resize_output_image_size(default_to_square=False): the short side becomes `shortest_edge`, the long
// side int(shortest_edge * long / short) (truncated, as Python's int() of a float64).
struct ImageSize {
  int64_t height = 0, width = 0;
};
ImageSize shortest_edge_size(int64_t height, int64_t width, int64_t shortest_edge);

class ClipImageProcessor final : public ImageProcessor {
 public:
  explicit ClipImageProcessor(ClipImageProcessorConfig config) : config_(std::move(config)) {}
  TensorMap preprocess(std::span<const Image> images, std::span<const Video> videos) const override;
  // The size of every processed image (what the processor expands <image> from).
  ImageSize output_size(const Image& image) const;
  const ClipImageProcessorConfig& config() const { return config_; }

 private:
  Image transform(const Image& image) const;  // resize + crop, still 8-bit
  ClipImageProcessorConfig config_;
};

}  // namespace vlm
