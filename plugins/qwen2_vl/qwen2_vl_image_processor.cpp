#include "qwen2_vl_image_processor.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "vlm/util/error.hpp"

namespace vlm::qwen2_vl {

// ---- configuration -------------------------------------------------------------------------------------

namespace {

int64_t positive(const ConfigView& view, std::string_view key, int64_t fallback) {
  const int64_t value = view.get_or(key, fallback);
  if (value <= 0) fail("{}: must be positive, got {}", view.where(key), value);
  return value;
}

// min_pixels / max_pixels: top-level key (4.47), else the "size" dict under either of its names, else default.
int64_t pixel_bound(const ConfigView& view, std::string_view key, std::string_view size_alias, int64_t fallback) {
  if (view.has(key)) return positive(view, key, fallback);
  const ConfigView size = view.child("size");
  if (size.has(key)) return positive(size, key, fallback);
  if (size.has(size_alias)) return positive(size, size_alias, fallback);
  return fallback;
}

}  // namespace

ImageProcessorConfig ImageProcessorConfig::from(const ConfigView& view, const Json& overrides) {
  ImageProcessorConfig c;
  c.do_resize = view.get_or("do_resize", c.do_resize);
  if (view.has("resample")) {
    const auto code = view.get<int64_t>("resample");
    if (code < 0 || code > 5) fail("{}: unknown PIL resampling code {}", view.where("resample"), code);
    c.resample = resample_from_pil_code(code);
  }
  c.normalization = PixelNormalization::from(view, c.normalization);
  c.min_pixels = pixel_bound(view, "min_pixels", "shortest_edge", c.min_pixels);
  c.max_pixels = pixel_bound(view, "max_pixels", "longest_edge", c.max_pixels);
  c.patch_size = positive(view, "patch_size", c.patch_size);
  c.temporal_patch_size = positive(view, "temporal_patch_size", c.temporal_patch_size);
  c.merge_size = positive(view, "merge_size", c.merge_size);

  if (!overrides.is_null()) {
    if (!overrides.is_object()) fail("{}: image processor overrides must be a JSON object", view.file());
    const ConfigView user = ConfigView::parse(overrides.dump(), "image processor overrides");
    for (const auto& [key, value] : overrides.items())
      if (key != "min_pixels" && key != "max_pixels")
        fail("image processor overrides: unknown key '{}' (Qwen2-VL accepts min_pixels, max_pixels)", key);
    c.min_pixels = positive(user, "min_pixels", c.min_pixels);
    c.max_pixels = positive(user, "max_pixels", c.max_pixels);
  }
  if (c.min_pixels > c.max_pixels)
    fail("{}: min_pixels ({}) is larger than max_pixels ({})", view.file(), c.min_pixels, c.max_pixels);
  for (float s : c.normalization.std)
    if (c.normalization.do_normalize && s == 0.f) fail("{}: image_std must not be 0", view.where("image_std"));
  return c;
}

// ---- smart_resize ----------------------------------------------------------------------------------------

namespace {

// Python's round() on a float: to the nearest integer, ties to even.
int64_t python_round(double x) {
  const double nearest = std::round(x);  // ties away from zero
  if (std::fabs(x - std::trunc(x)) == 0.5) return int64_t(2.0 * std::round(x / 2.0));
  return int64_t(nearest);
}

}  // namespace

ResizedSize smart_resize(int64_t height, int64_t width, int64_t factor, int64_t min_pixels, int64_t max_pixels,
                         const std::string& source) {
  if (height < factor || width < factor)
    fail("{}: image is {}x{} (width x height): Qwen2-VL needs both sides to be at least {} pixels", source, width,
         height, factor);
  if (double(std::max(height, width)) / double(std::min(height, width)) > 200)
    fail("{}: image is {}x{} (width x height): Qwen2-VL needs an aspect ratio of at most 200", source, width,
         height);
  ResizedSize size{python_round(double(height) / double(factor)) * factor,
                   python_round(double(width) / double(factor)) * factor};
  const double f = double(factor);
  if (size.height * size.width > max_pixels) {
    const double beta = std::sqrt(double(height * width) / double(max_pixels));
    size.height = std::max<int64_t>(1, int64_t(std::floor(double(height) / beta / f))) * factor;
    size.width = std::max<int64_t>(1, int64_t(std::floor(double(width) / beta / f))) * factor;
  } else if (size.height * size.width < min_pixels) {
    const double beta = std::sqrt(double(min_pixels) / double(height * width));
    size.height = int64_t(std::ceil(double(height) * beta / f)) * factor;
    size.width = int64_t(std::ceil(double(width) * beta / f)) * factor;
  }
  return size;
}

// ---- preprocessing ---------------------------------------------------------------------------------------

ImageProcessor::ImageProcessor(ImageProcessorConfig config) : config_(std::move(config)) {}

std::unique_ptr<ImageProcessor> ImageProcessor::from(const ConfigView& preprocessor_config, const Json& overrides) {
  return std::make_unique<ImageProcessor>(ImageProcessorConfig::from(preprocessor_config, overrides));
}

namespace {

constexpr int64_t kChannels = 3;

// One image (a 1-frame visual) or one video, as _preprocess sees it.
struct Visual {
  std::span<const Image> frames;
  std::string source;
  ResizedSize size;                // after smart_resize (or as is without do_resize)
  std::array<int64_t, 3> grid{};  // t, h, w in patches
  int64_t first_row = 0;           // in the output tensor
};

int64_t patch_rows(const Visual& v) { return v.grid[0] * v.grid[1] * v.grid[2]; }

}  // namespace

std::array<int64_t, 3> ImageProcessor::grid_thw(int64_t height, int64_t width, int64_t frames,
                                                const std::string& source) const {
  const ImageProcessorConfig& c = config_;
  ResizedSize size{height, width};
  if (c.do_resize)
    size = smart_resize(height, width, c.patch_size * c.merge_size, c.min_pixels, c.max_pixels, source);
  else if (height % (c.patch_size * c.merge_size) != 0 || width % (c.patch_size * c.merge_size) != 0)
    fail("{}: image is {}x{} (width x height); without resizing both sides must be multiples of {}", source, width,
         height, c.patch_size * c.merge_size);
  if (frames < 1) fail("{}: a video needs at least one frame", source);
  // One frame is tiled to a whole temporal patch; a partial last patch is filled by repeating the last frame.
  const int64_t temporal_patches = (frames + c.temporal_patch_size - 1) / c.temporal_patch_size;
  return {temporal_patches, size.height / c.patch_size, size.width / c.patch_size};
}

TensorMap ImageProcessor::preprocess(std::span<const Image> images, std::span<const Video> videos) const {
  const ImageProcessorConfig& c = config_;
  const int64_t patch = c.patch_size, temporal = c.temporal_patch_size, merge = c.merge_size;
  const int64_t row_length = kChannels * temporal * patch * patch;

  // Plans every visual first, so each output tensor is allocated once and filled in place.
  const auto plan = [&](std::span<const Image> frames, const std::string& source, int64_t first_row) {
    for (const Image& frame : frames)
      if (frame.width < 1 || frame.height < 1 || frame.rgb.size() != size_t(frame.width) * size_t(frame.height) * 3)
        fail("{}: empty or inconsistent image ({}x{}, {} bytes)", source, frame.width, frame.height, frame.rgb.size());
    Visual v{frames, source, {}, {}, first_row};
    v.grid = grid_thw(frames.front().height, frames.front().width, int64_t(frames.size()), source);
    v.size = {v.grid[1] * patch, v.grid[2] * patch};
    return v;
  };
  const auto fill = [&](const Visual& v, float* out) {
    const int64_t height = v.size.height, width = v.size.width, plane = height * width;
    const int64_t frame_count = int64_t(v.frames.size());
    std::vector<float> pixels(size_t(frame_count * kChannels * plane));  // CHW per frame
    for (int64_t f = 0; f < frame_count; ++f) {
      const Image& frame = v.frames[size_t(f)];
      const bool same_size = frame.height == height && frame.width == width;
      if (!c.do_resize && !same_size)
        fail("{}: frame {} is {}x{}, the first is {}x{}", v.source, f, frame.width, frame.height, width, height);
      // Every frame goes through PIL's resize in transformers, which copies when the size already matches.
      const Image resized = same_size ? Image{} : resize(frame, int(width), int(height), c.resample);
      write_pixels(same_size ? frame : resized, c.normalization, ChannelLayout::CHW,
                   pixels.data() + f * kChannels * plane);
    }
    // HF: reshape (grid_t, T, C, gh/m, m, P, gw/m, m, P) -> permute (0,3,6,4,7,2,1,5,8) -> rows of C*T*P*P.
    const int64_t grid_t = v.grid[0], blocks_h = v.grid[1] / merge, blocks_w = v.grid[2] / merge;
    float* dst = out + v.first_row * row_length;
    for (int64_t t = 0; t < grid_t; ++t)
      for (int64_t bh = 0; bh < blocks_h; ++bh)
        for (int64_t bw = 0; bw < blocks_w; ++bw)
          for (int64_t mh = 0; mh < merge; ++mh)
            for (int64_t mw = 0; mw < merge; ++mw) {
              const int64_t y0 = (bh * merge + mh) * patch, x0 = (bw * merge + mw) * patch;
              for (int64_t ch = 0; ch < kChannels; ++ch)
                for (int64_t s = 0; s < temporal; ++s) {
                  const int64_t frame = std::min(t * temporal + s, frame_count - 1);
                  const float* src = pixels.data() + (frame * kChannels + ch) * plane + y0 * width + x0;
                  for (int64_t py = 0; py < patch; ++py, dst += patch)
                    std::memcpy(dst, src + py * width, size_t(patch) * sizeof(float));
                }
            }
  };
  const auto run = [&](std::vector<Visual>& visuals, const char* values_name, const char* grid_name,
                       TensorMap& outputs) {
    if (visuals.empty()) return;
    const int64_t rows = visuals.back().first_row + patch_rows(visuals.back());
    Tensor values = Tensor::zeros({rows, row_length}, DType::F32);
    Tensor grids = Tensor::zeros({int64_t(visuals.size()), 3}, DType::I64);
    for (size_t i = 0; i < visuals.size(); ++i) {
      fill(visuals[i], values.data<float>());
      std::copy(visuals[i].grid.begin(), visuals[i].grid.end(), grids.data<int64_t>() + i * 3);
    }
    outputs.emplace(values_name, std::move(values));
    outputs.emplace(grid_name, std::move(grids));
  };

  std::vector<Visual> image_plan, video_plan;
  int64_t rows = 0;
  for (const Image& image : images) {
    image_plan.push_back(plan(std::span<const Image>(&image, 1), image.source.empty() ? "image" : image.source, rows));
    rows += patch_rows(image_plan.back());
  }
  rows = 0;
  for (const Video& video : videos) {
    const std::string source = video.source.empty() ? "video" : video.source;
    if (video.frames.empty()) fail("{}: a video needs at least one frame", source);
    video_plan.push_back(plan(video.frames, source, rows));
    rows += patch_rows(video_plan.back());
  }
  TensorMap outputs;
  run(image_plan, "pixel_values", "image_grid_thw", outputs);
  run(video_plan, "pixel_values_videos", "video_grid_thw", outputs);
  return outputs;
}

}  // namespace vlm::qwen2_vl
