#include "bridgetower_image_processor.hpp"

#include <algorithm>
#include <cmath>

#include "vlm/image/geometry.hpp"
#include "vlm/util/error.hpp"

namespace vlm::bridgetower {

ImageProcessorConfig ImageProcessorConfig::from(const ConfigView& view) {
  ImageProcessorConfig c;
  c.do_resize = view.get_or("do_resize", c.do_resize);
  if (view.has("size") && view.json()["size"].is_number_integer()) {
    c.shortest_edge = positive_or(view, "size", 0);
  } else if (view.has("size")) {
    const ConfigView size = view.child("size");
    if (!size.has("shortest_edge"))
      fail("{}: BridgeTower resizes by {{\"shortest_edge\": n}}", view.where("size"));
    c.shortest_edge = positive_or(size, "shortest_edge", 0);
  }
  c.size_divisor = positive_or(view, "size_divisor", c.size_divisor);
  if (view.has("resample")) c.resample = resample_from_pil_code(view.get<int64_t>("resample"));
  // crop_size null or absent: the resize size, as HF falls back to it.
  c.crop = c.shortest_edge;
  if (view.has("crop_size") && !view.json()["crop_size"].is_null()) {
    if (view.json()["crop_size"].is_number_integer()) {
      c.crop = positive_or(view, "crop_size", 0);
    } else {
      const ConfigView crop = view.child("crop_size");
      if (!crop.has("shortest_edge"))
        fail("{}: BridgeTower crops to {{\"shortest_edge\": n}} (what its center_crop reads)", view.where("crop_size"));
      c.crop = positive_or(crop, "shortest_edge", 0);
    }
  }
  c.normalization = PixelNormalization::from(view, c.normalization);
  return c;
}

ResizeTarget resize_target(int64_t height, int64_t width, int64_t shortest_edge, int64_t size_divisor) {
  // Python float arithmetic, step by step as HF writes it.
  const double shorter = double(shortest_edge), longer = double(int64_t(1333.0 / 800.0 * double(shortest_edge)));
  const double scale = shorter / double(std::min(height, width));
  double h, w;
  if (height < width) {
    h = shorter;
    w = scale * double(width);
  } else {
    h = scale * double(height);
    w = shorter;
  }
  if (std::max(h, w) > longer) {
    const double cap = longer / std::max(h, w);
    h *= cap;
    w *= cap;
  }
  const auto round_half_up = [](double v) { return int64_t(v + 0.5); };  // int(v + 0.5) for v >= 0
  return {round_half_up(h) / size_divisor * size_divisor, round_half_up(w) / size_divisor * size_divisor};
}

TensorMap ImageProcessor::preprocess(std::span<const Image> images, std::span<const Video> videos) const {
  if (!videos.empty()) fail("BridgeTower takes images only, but {} video(s) were given", videos.size());
  TensorMap out;
  if (images.empty()) return out;
  const auto& c = config_;
  std::vector<Tensor> pixels;
  int64_t max_h = 0, max_w = 0;
  for (const Image& image : images) {
    Image img = image;
    if (c.do_resize) {
      const ResizeTarget target = resize_target(image.height, image.width, c.shortest_edge, c.size_divisor);
      if (target.height < 1 || target.width < 1)
        fail("{}: a {}x{} image resizes to {}x{} (below size_divisor {})", image.source, image.width, image.height,
             target.width, target.height, c.size_divisor);
      img = resize(img, int(target.width), int(target.height), c.resample);
    }
    img = center_crop(img, int(c.crop), int(c.crop));
    pixels.push_back(to_pixel_tensor(img, c.normalization));
    max_h = std::max<int64_t>(max_h, img.height);
    max_w = std::max<int64_t>(max_w, img.width);
  }
  const int64_t B = int64_t(images.size());
  Tensor values = Tensor::zeros(Shape{B, 3, max_h, max_w}, DType::F32);
  Tensor mask = Tensor::zeros(Shape{B, max_h, max_w}, DType::I64);
  for (int64_t b = 0; b < B; ++b) {
    const Tensor& p = pixels[size_t(b)];
    const int64_t h = p.dim(1), w = p.dim(2);
    const Tensor padded = pad_spatial(p, Padding{0, int(max_h - h), 0, int(max_w - w)});  // bottom and right
    std::copy_n(padded.data<float>(), padded.numel(), values.data<float>() + b * 3 * max_h * max_w);
    int64_t* m = mask.data<int64_t>() + b * max_h * max_w;
    for (int64_t y = 0; y < h; ++y) std::fill_n(m + y * max_w, w, 1);
  }
  out.emplace("pixel_values", std::move(values));
  out.emplace("pixel_mask", std::move(mask));
  return out;
}

}  // namespace vlm::bridgetower
