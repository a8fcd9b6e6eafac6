#include "support/shared_data.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <vector>

#include <catch2/catch.hpp>
#include <unistd.h>

namespace vlm::test {

std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("VLM_SHARED"); env && *env) return env;
  return VLM_DEFAULT_SHARED_DIR;
}

static bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

std::optional<std::filesystem::path> shared_path(const std::string& relative) {
  const auto path = shared_dir() / relative;
  if (std::filesystem::exists(path)) return path;
  if (under_ci()) FAIL("shared data missing under CI=true: " << path.string() << " (set VLM_SHARED)");
  WARN("SKIPPED: shared data not found at " << path.string() << " (set VLM_SHARED to run this test)");
  return std::nullopt;
}

namespace {
struct TempDirs {
  std::mutex mutex;
  std::vector<std::filesystem::path> dirs;
  ~TempDirs() {
    std::error_code ec;
    for (auto& d : dirs) std::filesystem::remove_all(d, ec);
  }
};
TempDirs& temp_dirs() {
  static TempDirs dirs;
  return dirs;
}
}  // namespace

std::filesystem::path temp_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() /
             ("vlm-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::lock_guard lock(temp_dirs().mutex);
  temp_dirs().dirs.push_back(dir);
  return dir;
}

}  // namespace vlm::test
