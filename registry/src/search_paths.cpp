#include "vlm/registry/search_paths.hpp"

#include <algorithm>
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

std::vector<fs::path> shared_libraries_in(const std::vector<fs::path>& dirs, std::string_view prefix) {
  std::vector<fs::path> all;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& item : fs::directory_iterator(dir, ec)) {
      const auto name = item.path().filename().string();
      if (name.starts_with(prefix) && item.path().extension() == ".so") files.push_back(item.path());
    }
    std::sort(files.begin(), files.end());
    all.insert(all.end(), files.begin(), files.end());
  }
  return all;
}

std::vector<fs::path> config_dirs() {
  std::vector<fs::path> dirs;
  append_env_list(dirs, "VLM_CONFIG_PATH");
  dirs.push_back(library_dir().parent_path() / "share" / "vlm" / "configs");
  return dirs;
}

}  // namespace vlm::registry
