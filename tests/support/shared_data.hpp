#pragma once
// Locates ../shared (fixtures and reference data), read in place. VLM_SHARED overrides the location.
// When the data is absent a test skips with a message, except under CI=true, where absence fails.
#include <filesystem>
#include <optional>
#include <string>

namespace vlm::test {

std::filesystem::path shared_dir();
// The path of `relative` inside shared/, or nullopt after reporting a skip (or failing under CI=true).
std::optional<std::filesystem::path> shared_path(const std::string& relative);
// Fresh empty directory under the system temp dir, removed at process exit.
std::filesystem::path temp_dir(const std::string& tag);

}  // namespace vlm::test

// Use at the top of a test: `VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");` returns early when absent.
#define VLM_REQUIRE_SHARED(var, relative)                 \
  auto var##_opt = ::vlm::test::shared_path(relative);    \
  if (!var##_opt) return;                                 \
  const std::filesystem::path var = *var##_opt
