#pragma once
// Discovers compute backends (libvlm_backend_<name>.so), reports whether each is usable on this machine,
// and creates them. `auto` prefers the highest-scoring usable backend (CUDA when a device works).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vlm/backend/backend.hpp"

namespace vlm::registry {

struct BackendEntry {
  std::string name;
  std::string description;
  std::filesystem::path library;
  int score = 0;            // 0 = not usable here
  std::string status;       // "usable" or why not (wrong ABI, no device, load error)
  bool usable() const { return score > 0; }
};

// Every backend library found, best first.
std::vector<BackendEntry> discover_backends();

// Creates backend `name` ("cpu", "cuda", or "auto"). Error when it is absent or unusable, saying why.
// The returned backend is shared: models and tensors it allocated keep it alive.
std::shared_ptr<Backend> create_backend(const std::string& name, const BackendOptions& options = {});

}  // namespace vlm::registry
