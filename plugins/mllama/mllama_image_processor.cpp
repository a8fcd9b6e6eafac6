#include "mllama_image_processor.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "mllama_config.hpp"
#include "vlm/util/error.hpp"

namespace vlm::mllama {

ImageProcessorConfig ImageProcessorConfig::from(const ConfigView& view) {
  ImageProcessorConfig c;
  const ConfigView size = view.child("size");
  const int64_t h = size.get_or<int64_t>("height", c.tile), w = size.get_or<int64_t>("width", c.tile);
  if (h != w || h <= 0) fail("{}: Mllama tiles are square, found {}x{}", view.where("size"), w, h);
  c.tile = h;
  c.max_image_tiles = view.get_or("max_image_tiles", c.max_image_tiles);
  if (c.max_image_tiles <= 0) fail("{}: must be positive", view.where("max_image_tiles"));
  if (view.has("resample")) c.resample = resample_from_pil_code(view.get<int64_t>("resample"));
  for (const char* key : {"do_resize", "do_pad"})
    if (!view.get_or(key, true)) fail("{}: MllamaImageProcessor requires it (transformers refuses false)", view.where(key));
  c.normalization = PixelNormalization::from(view, c.normalization);
  return c;
}

ImageSize optimal_canvas(int64_t height, int64_t width, int64_t max_tiles, int64_t tile) {
  const auto ratios = supported_aspect_ratios(max_tiles);
  std::vector<double> scales;
  for (const auto& [a, b] : ratios) {
    const double sh = double(a * tile) / double(height), sw = double(b * tile) / double(width);
    scales.push_back(sw > sh ? sh : sw);
  }
  // The least upscaling (an exact fit counts), else the least downscaling; ties: the smallest canvas, first listed.
  double chosen = -1;
  for (const double s : scales)
    if (s >= 1.0 && (chosen < 0 || s < chosen)) chosen = s;
  if (chosen < 0)
    for (const double s : scales) chosen = std::max(chosen, s);
  int64_t best = -1;
  for (size_t i = 0; i < ratios.size(); ++i) {
    if (scales[i] != chosen) continue;
    const int64_t area = ratios[i].first * ratios[i].second;
    if (best < 0 || area < ratios[size_t(best)].first * ratios[size_t(best)].second) best = int64_t(i);
  }
  return {ratios[size_t(best)].first * tile, ratios[size_t(best)].second * tile};
}

ImageSize fit_to_canvas(int64_t height, int64_t width, int64_t canvas_height, int64_t canvas_width, int64_t tile) {
  const int64_t target_w = std::clamp(width, tile, canvas_width), target_h = std::clamp(height, tile, canvas_height);
  const double sh = double(target_h) / double(height), sw = double(target_w) / double(width);
  if (sw < sh) return {std::min(int64_t(std::floor(double(height) * sw)), target_h), target_w};
  return {target_h, std::min(int64_t(std::floor(double(width) * sh)), target_w)};
}

TensorMap ImageProcessor::preprocess(std::span<const Image> images, std::span<const Video> videos) const {
  if (!videos.empty()) fail("Mllama takes images only, but {} video(s) were given", videos.size());
  return preprocess(std::vector<std::vector<Image>>{std::vector<Image>(images.begin(), images.end())});
}

TensorMap ImageProcessor::preprocess(const std::vector<std::vector<Image>>& prompts) const {
  const auto& c = config_;
  const auto ratios = supported_aspect_ratios(c.max_image_tiles);
  int64_t max_images = 0;
  for (const auto& p : prompts) max_images = std::max<int64_t>(max_images, int64_t(p.size()));
  if (max_images == 0) return {};
  const int64_t B = int64_t(prompts.size()), T = c.max_image_tiles, t = c.tile, plane = t * t;
  Tensor pixels = Tensor::zeros(Shape{B, max_images, T, 3, t, t}, DType::F32);
  Tensor ids = Tensor::zeros(Shape{B, max_images}, DType::I64);
  Tensor mask = Tensor::zeros(Shape{B, max_images, T}, DType::I64);
  Tensor tiles = Tensor::zeros(Shape{B, max_images}, DType::I64);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m = 0; m < max_images; ++m) mask.data<int64_t>()[(b * max_images + m) * T] = 1;  // as HF sets it
  std::vector<float> canvas_pixels;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m = 0; m < int64_t(prompts[size_t(b)].size()); ++m) {
      const Image& image = prompts[size_t(b)][size_t(m)];
      const ImageSize canvas = optimal_canvas(image.height, image.width, T, t);
      const ImageSize fit = fit_to_canvas(image.height, image.width, canvas.height, canvas.width, t);
      const Image resized = fit.height == image.height && fit.width == image.width
                                ? image
                                : resize(image, int(fit.width), int(fit.height), c.resample);
      // Pad with black (8-bit 0) before normalising, so padding becomes -mean/std as in Hugging Face.
      Image padded;
      padded.width = int(canvas.width);
      padded.height = int(canvas.height);
      padded.rgb.assign(size_t(canvas.width * canvas.height * 3), 0);
      for (int y = 0; y < resized.height; ++y)
        std::memcpy(padded.rgb.data() + size_t(y) * size_t(padded.width) * 3, resized.rgb.data() + size_t(y) * size_t(resized.width) * 3,
                    size_t(resized.width) * 3);
      canvas_pixels.resize(size_t(3 * canvas.height * canvas.width));
      write_pixels(padded, c.normalization, ChannelLayout::CHW, canvas_pixels.data());
      const int64_t across = canvas.width / t, down = canvas.height / t;
      for (int64_t ty = 0; ty < down; ++ty)
        for (int64_t tx = 0; tx < across; ++tx) {
          float* dst = pixels.data<float>() + ((b * max_images + m) * T + ty * across + tx) * 3 * plane;
          for (int64_t ch = 0; ch < 3; ++ch)
            for (int64_t y = 0; y < t; ++y)
              std::memcpy(dst + ch * plane + y * t,
                          canvas_pixels.data() + (ch * canvas.height + ty * t + y) * canvas.width + tx * t,
                          size_t(t) * sizeof(float));
        }
      const auto at = std::find(ratios.begin(), ratios.end(), std::pair{down, across});
      ids.data<int64_t>()[b * max_images + m] = int64_t(at - ratios.begin()) + 1;
      std::fill_n(mask.data<int64_t>() + (b * max_images + m) * T, down * across, int64_t(1));
      tiles.data<int64_t>()[b * max_images + m] = down * across;
    }
  TensorMap out;
  out.emplace("pixel_values", std::move(pixels));
  out.emplace("aspect_ratio_ids", std::move(ids));
  out.emplace("aspect_ratio_mask", std::move(mask));
  out.emplace("num_tiles", std::move(tiles));
  return out;
}

}  // namespace vlm::mllama
