#pragma once
// Loads a fixture's checkpoint (<dir>/checkpoint) on the CPU through the registry, as the CLI would. For
// tests that link vlm::registry.
#include <filesystem>

#include "vlm/registry/loader.hpp"

namespace vlm::test {

inline registry::LoadedModel load_fixture_model(const std::filesystem::path& fixture_dir) {
  registry::LoadRequest request;
  request.model = (fixture_dir / "checkpoint").string();
  request.device = "cpu";
  return registry::load_model(request);
}

}  // namespace vlm::test
