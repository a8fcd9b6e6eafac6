#include "vlm/registry/plugins.hpp"

#include <algorithm>
#include <mutex>

#include "vlm/registry/search_paths.hpp"
#include "vlm/registry/shared_library.hpp"
#include "vlm/util/error.hpp"

namespace vlm::registry {
namespace fs = std::filesystem;

namespace {
constexpr std::string_view kPrefix = "libvlm_plugin_";

// Fields up to and including `destroy` must be present for this host to use the struct.
constexpr uint32_t kMinInfoSize = uint32_t(offsetof(VlmModelPluginInfo, destroy) + sizeof(void*));

const std::vector<PluginEntry>& cached_plugins() {
  static std::once_flag once;
  static std::vector<PluginEntry> plugins;
  std::call_once(once, [] { plugins = discover_plugins(); });
  return plugins;
}
}  // namespace

PluginEntry inspect_plugin(const fs::path& library) {
  PluginEntry entry;
  entry.library = library;
  entry.name = library.stem().string();
  if (entry.name.starts_with(kPrefix)) entry.name = entry.name.substr(kPrefix.size());
  try {
    auto& lib = SharedLibrary::open(library);
    if (!lib.has(VLM_MODEL_PLUGIN_SYMBOL)) {
      entry.status = fmt::format("not a vlm plugin: it does not export {}", VLM_MODEL_PLUGIN_SYMBOL);
      return entry;
    }
    const VlmModelPluginInfo* info = lib.function<VlmModelPluginInfoFn>(VLM_MODEL_PLUGIN_SYMBOL)();
    if (!info) {
      entry.status = "its plugin-info function returned nothing";
      return entry;
    }
    // abi_version sits at the same offset in every version of the struct, so it is safe to read first.
    if (info->abi_version != VLM_SDK_ABI_VERSION) {
      entry.status = fmt::format("built for SDK ABI version {}, but this host uses SDK ABI version {}; rebuild "
                                 "the plugin against this SDK",
                                 info->abi_version, VLM_SDK_ABI_VERSION);
      return entry;
    }
    if (info->struct_size < kMinInfoSize) {
      entry.status = fmt::format("plugin info struct is {} bytes, smaller than the {} this host needs",
                                 info->struct_size, kMinInfoSize);
      return entry;
    }
    if (std::string_view(info->cxx_abi ? info->cxx_abi : "") != VLM_CXX_ABI) {
      entry.status = fmt::format("built with C++ library ABI '{}', this host uses '{}'", info->cxx_abi ? info->cxx_abi : "",
                                 VLM_CXX_ABI);
      return entry;
    }
    entry.name = info->name ? info->name : entry.name;
    entry.version = info->version ? info->version : "";
    entry.description = info->description ? info->description : "";
    for (uint32_t i = 0; i < info->model_type_count; ++i) entry.model_types.emplace_back(info->model_types[i]);
    if (!info->create || !info->destroy) {
      entry.status = "plugin info has no factory";
      return entry;
    }
    entry.status = "ok";
    entry.info = info;
  } catch (const std::exception& e) {
    entry.status = e.what();
  }
  return entry;
}

std::vector<PluginEntry> discover_plugins() {
  std::vector<PluginEntry> plugins;
  for (const auto& file : shared_libraries_in(plugin_dirs(), kPrefix)) {
    PluginEntry entry = inspect_plugin(file);
    const bool duplicate = std::any_of(plugins.begin(), plugins.end(),
                                       [&](const PluginEntry& p) { return p.ok() && entry.ok() && p.name == entry.name; });
    if (!duplicate) plugins.push_back(std::move(entry));  // the first folder wins
  }
  return plugins;
}

const PluginEntry& plugin_for_model_type(const std::string& model_type) {
  std::vector<std::string> served;
  for (const auto& p : cached_plugins()) {
    if (!p.ok()) continue;
    for (const auto& t : p.model_types) {
      if (t == model_type) return p;
      served.push_back(t);
    }
  }
  std::string refused;
  for (const auto& p : cached_plugins())
    if (!p.ok()) refused += fmt::format("\n  refused {}: {}", p.library.string(), p.status);
  fail("no plugin serves model_type '{}' (served: {}){}", model_type,
       served.empty() ? "none" : fmt::format("{}", fmt::join(served, ", ")), refused);
}

const PluginEntry& plugin_named(const std::string& name) {
  for (const auto& p : cached_plugins())
    if (p.ok() && p.name == name) return p;
  return plugin_for_model_type(name);
}

std::shared_ptr<ModelFamily> create_family(const PluginEntry& plugin) {
  if (!plugin.ok()) fail("plugin {} cannot be used: {}", plugin.library.string(), plugin.status);
  ModelFamily* family = plugin.info->create();
  if (!family) fail("plugin {} failed to create its model family", plugin.name);
  auto destroy = plugin.info->destroy;
  return std::shared_ptr<ModelFamily>(family, [destroy](ModelFamily* f) { destroy(f); });
}

}  // namespace vlm::registry
