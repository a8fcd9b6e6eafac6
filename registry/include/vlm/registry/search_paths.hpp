#pragma once
// Where the host looks for plugins, backends and named-model configs: the folders beside the installed
// (or built) libraries, then the folders in environment variables.
#include <filesystem>
#include <string_view>
#include <vector>

namespace vlm::registry {

// <libdir>/vlm/plugins for the library holding this code, then each entry of VLM_PLUGIN_PATH.
std::vector<std::filesystem::path> plugin_dirs();
// <libdir>/vlm/backends, then VLM_BACKEND_PATH.
std::vector<std::filesystem::path> backend_dirs();
// VLM_CONFIG_PATH entries first, then <libdir>/../share/vlm/configs (the build tree and the install
// prefix both have one).
std::vector<std::filesystem::path> config_dirs();

// Files named <prefix>*.so in `dirs`, folder by folder in order, sorted by name within a folder.
std::vector<std::filesystem::path> shared_libraries_in(const std::vector<std::filesystem::path>& dirs,
                                                       std::string_view prefix);

}  // namespace vlm::registry
