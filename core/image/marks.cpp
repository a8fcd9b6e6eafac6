#include "vlm/image/marks.hpp"

#include "vlm/io/atomic_file.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include <vips/vips.h>

#include "vips_runtime.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

namespace {

std::array<uint8_t, 3> parse_colour(const std::string& text, const std::string& spec) {
  static const std::pair<const char*, std::array<uint8_t, 3>> named[] = {
      {"red", {255, 0, 0}},      {"green", {0, 200, 0}},     {"blue", {0, 0, 255}},   {"yellow", {255, 255, 0}},
      {"orange", {255, 165, 0}}, {"purple", {160, 32, 240}}, {"white", {255, 255, 255}}, {"black", {0, 0, 0}}};
  for (const auto& [name, rgb] : named)
    if (text == name) return rgb;
  if (text.size() == 7 && text[0] == '#' &&
      std::all_of(text.begin() + 1, text.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
    const auto v = std::stoul(text.substr(1), nullptr, 16);
    return {uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
  }
  fail("--mark '{}': unknown colour '{}' (red, green, blue, yellow, orange, purple, white, black or #RRGGBB)", spec, text);
}

// A filled disc of the mark's width: the brush every stroke is stamped with.
void stamp(VipsImage* canvas, const Mark& m, double x, double y) {
  double ink[3] = {double(m.colour[0]), double(m.colour[1]), double(m.colour[2])};
  const int radius = std::max(0, m.width / 2);
  if (radius == 0) {
    vips_draw_point(canvas, ink, 3, int(std::lround(x)), int(std::lround(y)), nullptr);
    return;
  }
  vips_draw_circle(canvas, ink, 3, int(std::lround(x)), int(std::lround(y)), radius, "fill", TRUE, nullptr);
}

void stroke(VipsImage* canvas, const Mark& m, double ax, double ay, double bx, double by) {
  const double length = std::hypot(bx - ax, by - ay);
  const int steps = std::max(1, int(std::ceil(length)));
  for (int i = 0; i <= steps; ++i) stamp(canvas, m, ax + (bx - ax) * i / steps, ay + (by - ay) * i / steps);
}

void draw_one(VipsImage* canvas, const Mark& m) {
  double ink[3] = {double(m.colour[0]), double(m.colour[1]), double(m.colour[2])};
  const int left = std::min(m.x0, m.x1), right = std::max(m.x0, m.x1);
  const int top = std::min(m.y0, m.y1), bottom = std::max(m.y0, m.y1);
  switch (m.kind) {
    case Mark::Kind::Rect: {
      // Four filled bands of the line width, centred on the box's edges (libvips clips to the canvas).
      const int w = m.width, h = w / 2;
      vips_draw_rect(canvas, ink, 3, left - h, top - h, right - left + w, w, "fill", TRUE, nullptr);
      vips_draw_rect(canvas, ink, 3, left - h, bottom - h, right - left + w, w, "fill", TRUE, nullptr);
      vips_draw_rect(canvas, ink, 3, left - h, top - h, w, bottom - top + w, "fill", TRUE, nullptr);
      vips_draw_rect(canvas, ink, 3, right - h, top - h, w, bottom - top + w, "fill", TRUE, nullptr);
      break;
    }
    case Mark::Kind::Ellipse: {
      const double cx = (left + right) / 2.0, cy = (top + bottom) / 2.0, rx = (right - left) / 2.0, ry = (bottom - top) / 2.0;
      const int segments = std::max(16, int(std::ceil(2 * M_PI * std::max(rx, ry))));
      for (int i = 0; i < segments; ++i) {
        const double a = 2 * M_PI * i / segments, b = 2 * M_PI * (i + 1) / segments;
        stroke(canvas, m, cx + rx * std::cos(a), cy + ry * std::sin(a), cx + rx * std::cos(b), cy + ry * std::sin(b));
      }
      break;
    }
    case Mark::Kind::Arrow: {
      stroke(canvas, m, m.x0, m.y0, m.x1, m.y1);
      const double angle = std::atan2(m.y1 - m.y0, m.x1 - m.x0);
      const double head = std::max(8.0, 4.0 * m.width);
      for (const double side : {-0.5, 0.5})  // two barbs 30 degrees off the shaft
        stroke(canvas, m, m.x1, m.y1, m.x1 - head * std::cos(angle + side), m.y1 - head * std::sin(angle + side));
      break;
    }
  }
}

// A libvips view of the image's pixels (no copy) that drawing operations write through.
VipsImage* wrap(Image& image) {
  image_detail::ensure_vips_started();
  VipsImage* canvas = vips_image_new_from_memory(image.rgb.data(), image.rgb.size(), image.width, image.height, 3,
                                                 VIPS_FORMAT_UCHAR);
  if (!canvas) fail("{}: cannot wrap the image for drawing: {}", image.source, image_detail::take_vips_error());
  return canvas;
}

}  // namespace

Mark parse_mark(const std::string& spec) {
  Mark m;
  std::vector<std::string> parts;
  std::stringstream stream(spec);
  for (std::string part; std::getline(stream, part, ':');) parts.push_back(part);
  if (parts.size() < 2 || parts.size() > 4)
    fail("--mark '{}': expected KIND:x0,y0,x1,y1[:COLOUR[:WIDTH]], e.g. rect:10,20,200,150:red:3", spec);
  if (parts[0] == "rect") m.kind = Mark::Kind::Rect;
  else if (parts[0] == "ellipse") m.kind = Mark::Kind::Ellipse;
  else if (parts[0] == "arrow") m.kind = Mark::Kind::Arrow;
  else fail("--mark '{}': unknown kind '{}' (rect, ellipse, arrow)", spec, parts[0]);
  int* coords[4] = {&m.x0, &m.y0, &m.x1, &m.y1};
  std::stringstream numbers(parts[1]);
  int count = 0;
  for (std::string n; std::getline(numbers, n, ',');) {
    size_t used = 0;
    long v = 0;
    try {
      v = std::stol(n, &used);
    } catch (...) {
      used = 0;
    }
    if (count >= 4 || used != n.size() || n.empty() || std::labs(v) > 1'000'000)
      fail("--mark '{}': coordinates must be four integers x0,y0,x1,y1", spec);
    *coords[count++] = int(v);
  }
  if (count != 4) fail("--mark '{}': coordinates must be four integers x0,y0,x1,y1", spec);
  if (parts.size() >= 3 && !parts[2].empty()) m.colour = parse_colour(parts[2], spec);
  if (parts.size() == 4) {
    size_t used = 0;
    int w = 0;
    try {
      w = std::stoi(parts[3], &used);
    } catch (...) {
      used = 0;
    }
    if (used != parts[3].size() || w < 1 || w > 100) fail("--mark '{}': width must be an integer from 1 to 100", spec);
    m.width = w;
  }
  return m;
}

void draw_marks(Image& image, std::span<const Mark> marks) {
  if (marks.empty()) return;
  VipsImage* canvas = wrap(image);
  for (const auto& m : marks) draw_one(canvas, m);
  g_object_unref(canvas);
}

void save_image(const Image& image, const std::filesystem::path& path) {
  image_detail::ensure_vips_started();
  VipsImage* view = vips_image_new_from_memory(image.rgb.data(), image.rgb.size(), image.width, image.height, 3,
                                               VIPS_FORMAT_UCHAR);
  if (!view) fail("{}: cannot write: {}", path.string(), image_detail::take_vips_error());
  // The temporary keeps the extension: libvips picks the format by it.
  int status = 0;
  try {
    write_atomically(path, [&](const std::filesystem::path& temporary) {
      status = vips_image_write_to_file(view, temporary.c_str(), nullptr);
      if (status != 0) fail("{}: cannot write the image: {}", path.string(), image_detail::take_vips_error());
    });
  } catch (...) {
    g_object_unref(view);
    throw;
  }
  g_object_unref(view);
}

}  // namespace vlm
