#pragma once
// Small helpers shared by the image tests.
#include <cstdint>
#include <filesystem>
#include <string>

#include "vlm/image/image.hpp"

namespace vlm::test {

// The deterministic 8-bit noise of tests/image/pillow_expectations.py (noise()), which the embedded Pillow
// expectations were computed from.
inline uint8_t pattern_sample(uint32_t x, uint32_t y, uint32_t c) {
  uint32_t h = (x * 73856093u) ^ (y * 19349663u) ^ (c * 83492791u);
  h ^= h >> 13;
  h *= 0x5bd1e995u;
  h ^= h >> 15;
  return uint8_t(h & 255u);
}

inline Image pattern_image(int width, int height) {
  Image image;
  image.width = width;
  image.height = height;
  image.source = "pattern";
  image.rgb.resize(size_t(width) * size_t(height) * 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        image.rgb[(size_t(y) * size_t(width) + size_t(x)) * 3 + size_t(c)] = pattern_sample(uint32_t(x), uint32_t(y), uint32_t(c));
  return image;
}

inline Image constant_image(int width, int height, uint8_t r, uint8_t g, uint8_t b) {
  Image image;
  image.width = width;
  image.height = height;
  image.source = "constant";
  image.rgb.resize(size_t(width) * size_t(height) * 3);
  for (size_t p = 0; p < image.rgb.size(); p += 3) {
    image.rgb[p] = r;
    image.rgb[p + 1] = g;
    image.rgb[p + 2] = b;
  }
  return image;
}

// 64-bit FNV-1a, as pillow_expectations.py hashes PIL's output bytes.
inline uint64_t fnv1a64(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

inline std::filesystem::path image_test_data(const std::string& name) {
  return std::filesystem::path(VLM_IMAGE_TEST_DATA) / name;
}

}  // namespace vlm::test
