#pragma once
// Decoded images and videos as the host hands them to an ImageProcessor: 8-bit, interleaved, RGB
// (converted from whatever the file held, as PIL's convert("RGB") does).
#include <cstdint>
#include <string>
#include <vector>

namespace vlm {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // height * width * 3
  std::string source;        // file it came from, for error messages
  uint8_t at(int y, int x, int c) const { return rgb[(size_t(y) * size_t(width) + size_t(x)) * 3 + size_t(c)]; }
};

struct Video {
  std::vector<Image> frames;
  double fps = 0.0;  // 0 = unknown (a folder of frames)
  std::string source;
};

}  // namespace vlm
