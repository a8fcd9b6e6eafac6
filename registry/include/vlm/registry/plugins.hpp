#pragma once
// Discovers model-family plugins (libvlm_plugin_<name>.so) and reads their metadata without creating
// any model. A plugin built for another SDK ABI is listed with the reason and never instantiated.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vlm/model/family.hpp"
#include "vlm/model/plugin.hpp"

namespace vlm::registry {

struct PluginEntry {
  std::string name;  // the plugin's own name, or the file stem when unreadable
  std::string version;
  std::string description;
  std::vector<std::string> model_types;
  std::filesystem::path library;
  std::string status;  // "ok" or why it is refused
  const VlmModelPluginInfo* info = nullptr;  // null when refused
  bool ok() const { return info != nullptr; }
};

// Every plugin library in plugin_dirs(), in search order (a name found twice: the first wins).
std::vector<PluginEntry> discover_plugins();
// Reads one library (also used for plugins given by path).
PluginEntry inspect_plugin(const std::filesystem::path& library);

// The usable plugin serving `model_type`, or an Error listing the model types that are served.
const PluginEntry& plugin_for_model_type(const std::string& model_type);
// The usable plugin named `name` (plugin name, or one of its model types).
const PluginEntry& plugin_named(const std::string& name);

// Creates the plugin's family object (the library stays loaded for the life of the process).
std::shared_ptr<ModelFamily> create_family(const PluginEntry& plugin);

}  // namespace vlm::registry
