#include "vlm/registry/backends.hpp"

#include <algorithm>
#include <mutex>

#include <spdlog/spdlog.h>

#include "vlm/backend/backend_plugin.hpp"
#include "vlm/registry/search_paths.hpp"
#include "vlm/registry/shared_library.hpp"
#include "vlm/util/error.hpp"

namespace vlm::registry {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "libvlm_backend_";

struct Found {
  BackendEntry entry;
  const VlmBackendPluginInfo* info = nullptr;
};

std::vector<Found> scan() {
  std::vector<Found> found;
  for (const auto& file : shared_libraries_in(backend_dirs(), kPrefix)) {
    Found f;
    f.entry.library = file;
    f.entry.name = file.stem().string().substr(kPrefix.size());
    if (std::any_of(found.begin(), found.end(), [&](const Found& o) { return o.entry.name == f.entry.name; }))
      continue;  // the first folder wins (build/install dir before VLM_BACKEND_PATH)
    try {
      auto& library = SharedLibrary::open(file);
      auto info_fn = library.function<VlmBackendPluginInfoFn>(VLM_BACKEND_PLUGIN_SYMBOL);
      const VlmBackendPluginInfo* info = info_fn();
      if (!info || info->abi_version != VLM_SDK_ABI_VERSION) {
        f.entry.status = fmt::format("built for SDK ABI version {}, this host uses version {}",
                                     info ? info->abi_version : 0u, VLM_SDK_ABI_VERSION);
      } else {
        f.info = info;
        f.entry.name = info->name;
        f.entry.description = info->description;
        char reason[512] = {0};
        f.entry.score = info->score(reason, sizeof(reason));
        f.entry.status = f.entry.score > 0 ? "usable" : (reason[0] ? reason : "not usable on this machine");
      }
    } catch (const std::exception& e) {
      f.entry.status = e.what();
    }
    found.push_back(std::move(f));
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const Found& a, const Found& b) { return a.entry.score > b.entry.score; });
  return found;
}

const std::vector<Found>& cached_scan() {
  static std::once_flag once;
  static std::vector<Found> found;
  std::call_once(once, [] { found = scan(); });
  return found;
}

}  // namespace

std::vector<BackendEntry> discover_backends() {
  std::vector<BackendEntry> entries;
  for (const auto& f : cached_scan()) entries.push_back(f.entry);
  return entries;
}

std::shared_ptr<Backend> create_backend(const std::string& name, const BackendOptions& options) {
  const auto& found = cached_scan();
  const Found* chosen = nullptr;
  if (name == "auto") {
    for (const auto& f : found)
      if (f.info && f.entry.usable()) {
        chosen = &f;
        break;
      }
    if (!chosen) {
      std::string why;
      for (const auto& f : found) why += fmt::format("\n  {}: {}", f.entry.name, f.entry.status);
      fail("no usable compute backend found{}", why.empty() ? " (no backend libraries in the search path)" : why);
    }
  } else {
    for (const auto& f : found)
      if (f.entry.name == name) chosen = &f;
    if (!chosen) {
      std::string names;
      for (const auto& f : found) names += (names.empty() ? "" : ", ") + f.entry.name;
      fail("no backend named '{}' (found: {})", name, names.empty() ? "none" : names);
    }
    if (!chosen->info || !chosen->entry.usable())
      fail("backend '{}' is not usable here: {}", name, chosen->entry.status);
  }
  Backend* backend = chosen->info->create(&options);
  if (!backend) fail("backend '{}' failed to initialise", chosen->entry.name);
  auto destroy = chosen->info->destroy;
  return std::shared_ptr<Backend>(backend, [destroy](Backend* b) { destroy(b); });
}

}  // namespace vlm::registry
