#include "vlm/image/clip_image_processor.hpp"

#include <algorithm>
#include <vector>

#include "vlm/image/geometry.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

ClipImageProcessorConfig ClipImageProcessorConfig::from(const ConfigView& view) { return from(view, {}); }

ClipImageProcessorConfig ClipImageProcessorConfig::from(const ConfigView& view, ClipImageProcessorConfig c) {
  c.do_resize = view.get_or("do_resize", c.do_resize);
  if (view.has("size") && view.json()["size"].is_number_integer()) {
    c.shortest_edge = positive_or(view, "size", 0);  // legacy int: a shortest edge (default_to_square=False)
  } else {
    const ConfigView size = view.child("size");
    if (size.has("shortest_edge")) {
      c.shortest_edge = positive_or(size, "shortest_edge", 0);
    } else if (size.has("height") || size.has("width")) {
      c.shortest_edge.reset();
      c.resize_height = positive_or(size, "height", 0);
      c.resize_width = positive_or(size, "width", 0);
    }
  }
  if (view.has("resample")) c.resample = resample_from_pil_code(view.get<int64_t>("resample"));
  c.do_center_crop = view.get_or("do_center_crop", c.do_center_crop);
  if (view.has("crop_size") && view.json()["crop_size"].is_number_integer()) {
    c.crop_height = c.crop_width = positive_or(view, "crop_size", 0);
  } else {
    const ConfigView crop = view.child("crop_size");
    c.crop_height = positive_or(crop, "height", c.crop_height);
    c.crop_width = positive_or(crop, "width", c.crop_width);
  }
  c.normalization = PixelNormalization::from(view, c.normalization);
  return c;
}

ImageSize shortest_edge_size(int64_t height, int64_t width, int64_t shortest_edge) {
  const int64_t short_side = std::min(height, width), long_side = std::max(height, width);
  const auto new_long = int64_t(double(shortest_edge * long_side) / double(short_side));
  return height <= width ? ImageSize{shortest_edge, new_long} : ImageSize{new_long, shortest_edge};
}

Image ClipImageProcessor::transform(const Image& image) const {
  Image out = image;
  if (config_.do_resize) {
    const ImageSize target = config_.shortest_edge
                                 ? shortest_edge_size(image.height, image.width, *config_.shortest_edge)
                                 : ImageSize{config_.resize_height, config_.resize_width};
    if (target.height < 1 || target.width < 1)
      fail("{}: a {}x{} image is too thin to resize", image.source, image.width, image.height);
    out = resize(out, int(target.width), int(target.height), config_.resample);
  }
  if (config_.do_center_crop) out = center_crop(out, int(config_.crop_width), int(config_.crop_height));
  return out;
}

ImageSize ClipImageProcessor::output_size(const Image& image) const {
  if (config_.do_center_crop) return {config_.crop_height, config_.crop_width};
  if (!config_.do_resize) return {image.height, image.width};
  if (config_.shortest_edge) return shortest_edge_size(image.height, image.width, *config_.shortest_edge);
  return {config_.resize_height, config_.resize_width};
}

TensorMap ClipImageProcessor::preprocess(std::span<const Image> images, std::span<const Video> videos) const {
  if (!videos.empty()) fail("CLIP image processing takes images only, but {} video(s) were given", videos.size());
  TensorMap out;
  if (images.empty()) return out;
  std::vector<Image> transformed;
  for (const auto& image : images) transformed.push_back(transform(image));
  const int height = transformed.front().height, width = transformed.front().width;
  for (const auto& image : transformed)
    if (image.height != height || image.width != width)
      fail("{}: processed to {}x{}, but the batch's first image is {}x{} (enable center cropping to batch "
           "images of different shapes)",
           image.source, image.width, image.height, width, height);
  Tensor pixels = Tensor::zeros(Shape{int64_t(images.size()), 3, height, width}, DType::F32);
  const size_t plane = size_t(3) * size_t(height) * size_t(width);
  for (size_t i = 0; i < transformed.size(); ++i)
    write_pixels(transformed[i], config_.normalization, ChannelLayout::CHW, pixels.data<float>() + i * plane);
  out.emplace("pixel_values", std::move(pixels));
  return out;
}

}  // namespace vlm
