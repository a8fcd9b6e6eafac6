#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <string_view>

#include "vlm/image/load.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  const auto is_digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      // Compare the digit runs by value: skip leading zeros, then the longer run is larger, then lexically.
      size_t a_end = i, b_end = j;
      while (a_end < a.size() && is_digit(a[a_end])) ++a_end;
      while (b_end < b.size() && is_digit(b[b_end])) ++b_end;
      size_t a_start = i, b_start = j;
      while (a_start + 1 < a_end && a[a_start] == '0') ++a_start;
      while (b_start + 1 < b_end && b[b_start] == '0') ++b_start;
      const std::string_view a_digits(a.data() + a_start, a_end - a_start);
      const std::string_view b_digits(b.data() + b_start, b_end - b_start);
      if (a_digits.size() != b_digits.size()) return a_digits.size() < b_digits.size();
      if (a_digits != b_digits) return a_digits < b_digits;
      i = a_end;
      j = b_end;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  if ((a.size() - i) != (b.size() - j)) return (a.size() - i) < (b.size() - j);
  return a < b;  // equal by value (e.g. "frame_01" vs "frame_1"): any fixed order keeps sorting strict
}

namespace {

bool has_image_extension(const std::filesystem::path& path) {
  static constexpr std::array<std::string_view, 10> kExtensions = {
      ".png", ".jpg", ".jpeg", ".webp", ".gif", ".tif", ".tiff", ".ppm", ".pgm", ".pnm"};
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return std::find(kExtensions.begin(), kExtensions.end(), extension) != kExtensions.end();
}

}  // namespace

std::vector<std::filesystem::path> list_image_files(const std::filesystem::path& folder) {
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) fail("{}: not a folder", folder.string());
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name[0] != '.' && entry.is_regular_file(error) && has_image_extension(entry.path()))
      names.push_back(name);
  }
  if (error) fail("{}: cannot list the folder: {}", folder.string(), error.message());
  if (names.empty()) fail("{}: no image files (png, jpg, jpeg, webp, gif, tif, tiff, ppm, pgm, pnm)", folder.string());
  std::sort(names.begin(), names.end(), natural_less);
  std::vector<std::filesystem::path> paths;
  for (const auto& name : names) paths.push_back(folder / name);
  return paths;
}

Video load_video_frames(const std::filesystem::path& folder, const ImageLoadOptions& options) {
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) fail("{}: not a folder of video frames", folder.string());
  const std::vector<std::filesystem::path> paths = list_image_files(folder);
  if (options.max_video_frames > 0 && int64_t(paths.size()) > options.max_video_frames)
    fail("{}: {} frames, more than the {} a video may have; sample the frames into a smaller folder",
         folder.string(), paths.size(), options.max_video_frames);
  Video video;
  video.source = folder.string();
  video.frames.reserve(paths.size());
  for (const auto& path : paths) {
    Image frame = load_image(path, options);
    if (!video.frames.empty() &&
        (frame.width != video.frames.front().width || frame.height != video.frames.front().height))
      fail("{}: frame {} is {}x{} but {} is {}x{}: all frames of a video must have one size", video.source,
           path.filename().string(),
           frame.width, frame.height, video.frames.front().source, video.frames.front().width,
           video.frames.front().height);
    video.frames.push_back(std::move(frame));
  }
  return video;
}

}  // namespace vlm
