#pragma once
// Qwen2-VL's image processor, at parity with transformers v4.47.1's Qwen2VLImageProcessor (numpy path):
// smart_resize each image (or each video from its first frame) to multiples of patch_size * merge_size with
// a pixel count within [min_pixels, max_pixels], Pillow-exact resize, rescale + normalise, then cut into
// temporal_patch_size x patch_size x patch_size patches in the order the vision tower expects.
//
// Outputs: pixel_values [sum of patches, C*T*P*P] f32 and image_grid_thw [images, 3] i64 for images;
// pixel_values_videos and video_grid_thw for videos (each present only when there are such inputs).
// Choices where 4.47 has no defined behaviour (newer transformers versions do the same):
//   * a video with an odd number of frames repeats its last frame to fill the final temporal patch
//     (4.47 fails to reshape);
//   * smart_resize never returns a side of 0 for extreme aspect ratios: floor_by_factor is at least factor.
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "vlm/image/pixels.hpp"
#include "vlm/image/resize.hpp"
#include "vlm/model/components.hpp"

namespace vlm::qwen2_vl {

struct ImageProcessorConfig {
  bool do_resize = true;
  Resample resample = Resample::Bicubic;
  PixelNormalization normalization{true, 1.0 / 255.0, true,
                                   {0.48145466f, 0.4578275f, 0.40821073f},   // OPENAI_CLIP_MEAN
                                   {0.26862954f, 0.26130258f, 0.27577711f}};  // OPENAI_CLIP_STD
  int64_t min_pixels = 56 * 56;
  int64_t max_pixels = 28 * 28 * 1280;
  int64_t patch_size = 14;
  int64_t temporal_patch_size = 2;
  int64_t merge_size = 2;

  // From preprocessor_config.json; absent keys keep Qwen2VLImageProcessor's defaults. min_pixels /
  // max_pixels: the top-level keys (what 4.47 reads), else "size" {min_pixels|shortest_edge,
  // max_pixels|longest_edge} (newer configs), else the defaults. `overrides` (an object, may be null or
  // empty) replaces min_pixels / max_pixels, as processor(..., min_pixels=...) does; other keys are an Error.
  static ImageProcessorConfig from(const ConfigView& preprocessor_config, const Json& overrides = Json::object());
};

struct ResizedSize {
  int64_t height = 0;
  int64_t width = 0;
  bool operator==(const ResizedSize&) const = default;
};

// transformers 4.47 smart_resize: sides rounded (half to even) to multiples of `factor`, then scaled down
// (floor) or up (ceil) by a common factor when the pixel count leaves [min_pixels, max_pixels]. Errors
// name `source`: a side shorter than `factor`, or an aspect ratio above 200.
ResizedSize smart_resize(int64_t height, int64_t width, int64_t factor, int64_t min_pixels, int64_t max_pixels,
                         const std::string& source);

class ImageProcessor final : public vlm::ImageProcessor {
 public:
  explicit ImageProcessor(ImageProcessorConfig config);
  static std::unique_ptr<ImageProcessor> from(const ConfigView& preprocessor_config,
                                              const Json& overrides = Json::object());

  TensorMap preprocess(std::span<const Image> images, std::span<const Video> videos) const override;

  // Grid (t, h, w) in patches for an image of this size, or a video of `frames` frames; what
  // image_grid_thw / video_grid_thw will hold (the processor expands <|image_pad|> from it).
  std::array<int64_t, 3> grid_thw(int64_t height, int64_t width, int64_t frames, const std::string& source) const;

  const ImageProcessorConfig& config() const { return config_; }

 private:
  ImageProcessorConfig config_;
};

}  // namespace vlm::qwen2_vl
