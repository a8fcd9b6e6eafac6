#include "vlm/registry/search_paths.hpp"

#include <cstdlib>
#include <sstream>
#include <string>

#include <boost/dll/runtime_symbol_info.hpp>

namespace vlm::registry {
namespace fs = std::filesystem;

namespace {

fs::path library_dir() {
  // The folder of libvlm_registry.so itself: build/lib in the build tree, <prefix>/lib when installed.
  return fs::path(boost::dll::this_line_location().string()).parent_path();
}

void append_env_list(std::vector<fs::path>& out, const char* variable) {
  const char* value = std::getenv(variable);
  if (!value) return;
  std::stringstream stream(value);
  std::string item;
  while (std::getline(stream, item, ':'))
    if (!item.empty()) out.emplace_back(item);
}

}  // namespace

std::vector<fs::path> plugin_dirs() {
  std::vector<fs::path> dirs{library_dir() / "vlm" / "plugins"};
  append_env_list(dirs, "VLM_PLUGIN_PATH");
  return dirs;
}

std::vector<fs::path> backend_dirs() {
  std::vector<fs::path> dirs{library_dir() / "vlm" / "backends"};
  append_env_list(dirs, "VLM_BACKEND_PATH");
  return dirs;
}

std::vector<fs::path> config_dirs() {
  std::vector<fs::path> dirs;
  append_env_list(dirs, "VLM_CONFIG_PATH");
  dirs.push_back(library_dir().parent_path() / "share" / "vlm" / "configs");
  return dirs;
}

}  // namespace vlm::registry
