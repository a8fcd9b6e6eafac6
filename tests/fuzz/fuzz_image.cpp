// Image decoding through the libvips loaders vlm allows (PNG, JPEG, WebP, GIF, TIFF, HEIF, PNM), to 8-bit
// RGB as PIL converts: the header probe, then the full decode. Pixel limit 4 Mpx, so a decompression bomb
// is refused from its header and the fuzzer stays fast.
#include "fuzz_support.hpp"
#include "vlm/image/load.hpp"
#include "vlm/image/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  vlm::ImageLoadOptions options;
  options.max_pixels = 4 << 20;
  vlm::fuzz::expect_errors([&] { (void)vlm::probe_image(bytes, "fuzz-input", options); });
  vlm::fuzz::expect_errors([&] {
    const vlm::Image image = vlm::decode_image(bytes, "fuzz-input", options);
    if (image.width <= 0 || image.height <= 0 || image.rgb.size() != size_t(image.width) * size_t(image.height) * 3) std::abort();
  });
  return 0;
}
