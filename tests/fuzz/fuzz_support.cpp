#include "fuzz_support.hpp"

#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>

namespace vlm::fuzz {

std::filesystem::path scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    auto path = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") / ("vlm-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return dir;
}

std::filesystem::path write_scratch(std::string_view name, const uint8_t* data, size_t size) {
  const auto path = scratch_dir() / std::string(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("VLM_SHARED"); env && *env) return env;
  return VLM_DEFAULT_SHARED_DIR;
}

}  // namespace vlm::fuzz
