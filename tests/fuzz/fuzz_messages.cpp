// `vlm run --messages FILE`: an HF-style conversation (or a batch of them) read into Prompts, with the
// images and video folders it names loaded. The scratch folder holds image.png and frames/ (two frames)
// for the paths a conversation may name.
#include <filesystem>

#include "fuzz_support.hpp"
#include "run/request.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  namespace fs = std::filesystem;
  const auto inputs = vlm::fuzz::shared_dir() / "fixtures" / "qwen2_vl" / "inputs";
  const auto dir = vlm::fuzz::scratch_dir();
  fs::copy_file(inputs / "image_multi_a.png", dir / "image.png", fs::copy_options::overwrite_existing);
  fs::create_directories(dir / "frames");
  fs::copy_file(inputs / "video_frame_0.png", dir / "frames" / "0.png", fs::copy_options::overwrite_existing);
  fs::copy_file(inputs / "video_frame_1.png", dir / "frames" / "1.png", fs::copy_options::overwrite_existing);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = vlm::fuzz::write_scratch("messages.json", data, size);
  vlm::fuzz::expect_errors([&] { (void)vlm::host::prompts_from_messages_file(path.string()); });
  return 0;
}
