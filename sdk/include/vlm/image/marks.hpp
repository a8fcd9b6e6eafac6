#pragma once
// Visual prompts: marks drawn onto an image before preprocessing (VipLlava was trained to read them).
// Spec syntax (the --mark option): KIND:x0,y0,x1,y1[:COLOUR[:WIDTH]]
//   KIND    rect | ellipse (its bounding box) | arrow (from x0,y0 to the head at x1,y1)
//   COLOUR  red (default), green, blue, yellow, orange, purple, white, black, or #RRGGBB
//   WIDTH   line width in pixels, 1..100 (default 3)
// Marks are clipped to the image; a malformed spec is an Error quoting it.
#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "vlm/image/image.hpp"

namespace vlm {

struct Mark {
  enum class Kind { Rect, Ellipse, Arrow };
  Kind kind = Kind::Rect;
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  std::array<uint8_t, 3> colour{255, 0, 0};
  int width = 3;
};

Mark parse_mark(const std::string& spec);
// Draws with libvips drawing operations, in order, onto `image` (modified in place).
void draw_marks(Image& image, std::span<const Mark> marks);
// Writes an RGB image; the format follows the extension (png, jpg, webp, ...).
void save_image(const Image& image, const std::filesystem::path& path);

}  // namespace vlm
