#include "idefics2_image_processor.hpp"

#include <algorithm>
#include <cstring>

#include "vlm/image/geometry.hpp"
#include "vlm/util/error.hpp"

namespace vlm::idefics2 {

ImageProcessorConfig ImageProcessorConfig::from(const ConfigView& view) {
  ImageProcessorConfig c;
  c.do_resize = view.get_or("do_resize", c.do_resize);
  const ConfigView size = view.child("size");
  c.shortest_edge = size.get_or("shortest_edge", c.shortest_edge);
  c.longest_edge = size.get_or("longest_edge", c.longest_edge);
  if (c.shortest_edge <= 0 || c.longest_edge <= 0)
    fail("{}: shortest_edge and longest_edge must be positive, found {} and {}", view.where("size"), c.shortest_edge,
         c.longest_edge);
  if (view.has("resample")) c.resample = resample_from_pil_code(view.get<int64_t>("resample"));
  c.do_pad = view.get_or("do_pad", c.do_pad);
  c.do_image_splitting = view.get_or("do_image_splitting", c.do_image_splitting);
  c.normalization = PixelNormalization::from(view, c.normalization);
  return c;
}

ImageSize resized_size(int64_t height, int64_t width, int64_t shortest_edge, int64_t longest_edge) {
  const double aspect = double(width) / double(height);
  if (width >= height && width > longest_edge) {
    width = longest_edge;
    height = int64_t(double(width) / aspect);
  } else if (height > width && height > longest_edge) {
    height = longest_edge;
    width = int64_t(double(height) * aspect);
  }
  return {std::max(height, shortest_edge), std::max(width, shortest_edge)};
}

std::vector<Image> ImageProcessor::transform(const Image& image) const {
  std::vector<Image> parts;
  if (config_.do_image_splitting) {
    // Quarters (top-left, top-right, bottom-left, bottom-right) of the original, then the original.
    const int mid_w = image.width / 2, mid_h = image.height / 2;
    if (mid_w == 0 || mid_h == 0)
      fail("{}: an image of {}x{} is too small to split into quarters", image.source, image.width, image.height);
    parts.push_back(crop(image, 0, 0, mid_w, mid_h));
    parts.push_back(crop(image, mid_w, 0, image.width - mid_w, mid_h));
    parts.push_back(crop(image, 0, mid_h, mid_w, image.height - mid_h));
    parts.push_back(crop(image, mid_w, mid_h, image.width - mid_w, image.height - mid_h));
  }
  parts.push_back(image);
  if (config_.do_resize)
    for (auto& part : parts) {
      const ImageSize size = resized_size(part.height, part.width, config_.shortest_edge, config_.longest_edge);
      if (size.height != part.height || size.width != part.width)
        part = resize(part, int(size.width), int(size.height), config_.resample);
    }
  return parts;
}

TensorMap ImageProcessor::preprocess(std::span<const Image> images, std::span<const Video> videos) const {
  if (!videos.empty()) fail("Idefics2 takes images only, but {} video(s) were given", videos.size());
  return preprocess(std::vector<std::vector<Image>>{std::vector<Image>(images.begin(), images.end())});
}

TensorMap ImageProcessor::preprocess(const std::vector<std::vector<Image>>& prompts) const {
  std::vector<std::vector<Image>> processed;
  int64_t max_images = 0, max_h = 0, max_w = 0;
  for (const auto& prompt : prompts) {
    auto& row = processed.emplace_back();
    for (const auto& image : prompt)
      for (auto& part : transform(image)) row.push_back(std::move(part));
    max_images = std::max<int64_t>(max_images, int64_t(row.size()));
    for (const auto& part : row) {
      max_h = std::max<int64_t>(max_h, part.height);
      max_w = std::max<int64_t>(max_w, part.width);
    }
  }
  if (max_images == 0) return {};
  if (!config_.do_pad)
    for (const auto& row : processed)
      for (const auto& part : row)
        if (part.height != max_h || part.width != max_w || int64_t(row.size()) != max_images)
          fail("Idefics2 without do_pad needs every image at one size and as many images per prompt ({}x{} vs {}x{})",
               part.width, part.height, max_w, max_h);

  const int64_t B = int64_t(processed.size()), plane = max_h * max_w;
  Tensor pixels = Tensor::zeros(Shape{B, max_images, 3, max_h, max_w}, DType::F32);
  Tensor mask = Tensor::zeros(Shape{B, max_images, max_h, max_w}, DType::I64);
  std::vector<float> staging;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < int64_t(processed[size_t(b)].size()); ++i) {
      const Image& part = processed[size_t(b)][size_t(i)];
      const int64_t h = part.height, w = part.width;
      staging.resize(size_t(3 * h * w));
      write_pixels(part, config_.normalization, ChannelLayout::CHW, staging.data());
      float* dst = pixels.data<float>() + (b * max_images + i) * 3 * plane;
      int64_t* m = mask.data<int64_t>() + (b * max_images + i) * plane;
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < h; ++y)
          std::memcpy(dst + c * plane + y * max_w, staging.data() + (c * h + y) * w, size_t(w) * sizeof(float));
      for (int64_t y = 0; y < h; ++y) std::fill_n(m + y * max_w, w, int64_t(1));
    }
  TensorMap out;
  out.emplace("pixel_values", std::move(pixels));
  out.emplace("pixel_attention_mask", std::move(mask));
  return out;
}

}  // namespace vlm::idefics2
