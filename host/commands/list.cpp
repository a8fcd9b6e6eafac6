// vlm list: what this installation can run.
#include <fmt/format.h>

#include "../command.hpp"
#include "vlm/registry/backends.hpp"
#include "vlm/registry/models.hpp"
#include "vlm/registry/plugins.hpp"
#include "vlm/registry/search_paths.hpp"

namespace vlm::host {

namespace {
std::string join_paths(const std::vector<std::filesystem::path>& paths) {
  std::string out;
  for (const auto& p : paths) out += (out.empty() ? "" : ":") + p.string();
  return out;
}
}  // namespace

int list_command(const std::vector<std::string>& args) {
  po::options_description options("vlm list");
  po::variables_map vm;
  if (!parse_options(args, "usage: vlm list\n\nLists model plugins (with the config.json model_types they serve), "
                           "compute backends (and whether each is usable here) and named models.",
                     options, {}, vm))
    return 0;

  fmt::print("model plugins:\n");
  const auto plugins = registry::discover_plugins();
  if (plugins.empty()) fmt::print("  (none found in {})\n", join_paths(registry::plugin_dirs()));
  for (const auto& p : plugins) {
    if (p.ok())
      fmt::print("  {:<14} {:<8} model_type: {:<20} {}\n", p.name, p.version, fmt::format("{}", fmt::join(p.model_types, ", ")),
                 p.description);
    else
      fmt::print("  {:<14} REFUSED  {} ({})\n", p.name, p.status, p.library.string());
  }

  fmt::print("\ncompute backends:\n");
  const auto backends = registry::discover_backends();
  if (backends.empty()) fmt::print("  (none found in {})\n", join_paths(registry::backend_dirs()));
  for (const auto& b : backends)
    fmt::print("  {:<8} {:<10} {}\n", b.name, b.usable() ? "usable" : "unusable", b.usable() ? b.description : b.status);

  fmt::print("\nnamed models (configs/models):\n");
  std::vector<registry::NamedModel> models;
  try {
    models = registry::named_models();
  } catch (const std::exception& e) {
    fmt::print("  error reading named models: {}\n", e.what());
  }
  if (models.empty()) fmt::print("  (none)\n");
  for (const auto& m : models) {
    const bool present = std::filesystem::is_directory(m.checkpoint) || registry::find_in_hf_cache(m.checkpoint);
    fmt::print("  {:<22} {:<36} {:<11} {}\n", m.name, m.checkpoint, present ? "available" : "not present",
               m.description);
  }
  return 0;
}

}  // namespace vlm::host
