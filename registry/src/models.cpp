#include "vlm/registry/models.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

#include "vlm/io/yaml.hpp"
#include "vlm/registry/search_paths.hpp"
#include "vlm/util/error.hpp"

namespace vlm::registry {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Repo ids present in the HF cache ("org/name").
std::vector<std::string> cached_repo_ids() {
  std::vector<std::string> ids;
  std::error_code ec;
  const fs::path cache = hf_hub_cache();
  if (!fs::is_directory(cache, ec)) return ids;
  for (const auto& item : fs::directory_iterator(cache, ec)) {
    std::string name = item.path().filename().string();
    if (!name.starts_with("models--")) continue;
    name = name.substr(8);
    const auto sep = name.find("--");
    if (sep != std::string::npos) name.replace(sep, 2, "/");
    ids.push_back(name);
  }
  return ids;
}

}  // namespace

NamedModel parse_named_model(const fs::path& yaml_file) {
  const YamlDocument yaml = load_yaml(yaml_file);
  if (!yaml.value.is_object()) fail("{}: expected a mapping with name, checkpoint, ...", yaml_file.string());
  const Json json = Json::parse(yaml.value.dump());
  NamedModel model;
  model.file = yaml_file;
  auto text = [&](const char* key, bool required) -> std::string {
    if (!json.contains(key)) {
      if (required) fail("{}: missing required key '{}'", yaml_file.string(), key);
      return {};
    }
    if (!json[key].is_string()) fail("{}: '{}' must be a string", yaml_file.string(), key);
    return json[key].get<std::string>();
  };
  model.name = text("name", true);
  model.checkpoint = text("checkpoint", true);
  model.description = text("description", false);
  model.plugin = text("plugin", false);
  if (json.contains("generation")) {
    if (!json["generation"].is_object()) fail("{}: 'generation' must be a mapping", yaml_file.string());
    model.generation = json["generation"];
  }
  for (auto it = json.begin(); it != json.end(); ++it)
    if (it.key() != "name" && it.key() != "checkpoint" && it.key() != "description" && it.key() != "plugin" &&
        it.key() != "generation")
      fail("{}: unknown key '{}' (expected name, description, checkpoint, plugin, generation)", yaml_file.string(),
           it.key());
  return model;
}

std::vector<NamedModel> named_models() {
  std::vector<NamedModel> models;
  for (const auto& dir : config_dirs()) {
    const fs::path folder = dir / "models";
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& item : fs::directory_iterator(folder, ec))
      if (item.path().extension() == ".yaml" || item.path().extension() == ".yml") files.push_back(item.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      NamedModel model = parse_named_model(file);
      if (std::none_of(models.begin(), models.end(), [&](const NamedModel& m) { return m.name == model.name; }))
        models.push_back(std::move(model));
    }
  }
  return models;
}

fs::path hf_hub_cache() {
  if (const char* v = std::getenv("HF_HUB_CACHE"); v && *v) return v;
  if (const char* v = std::getenv("HUGGINGFACE_HUB_CACHE"); v && *v) return v;
  if (const char* v = std::getenv("HF_HOME"); v && *v) return fs::path(v) / "hub";
  if (const char* v = std::getenv("XDG_CACHE_HOME"); v && *v) return fs::path(v) / "huggingface" / "hub";
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : "/") / ".cache" / "huggingface" / "hub";
}

std::optional<fs::path> find_in_hf_cache(const std::string& spec) {
  std::string repo = spec, revision = "main";
  if (const auto at = spec.find('@'); at != std::string::npos) {
    repo = spec.substr(0, at);
    revision = spec.substr(at + 1);
  }
  const auto slash = repo.find('/');
  if (slash == std::string::npos || repo.find('/', slash + 1) != std::string::npos) return std::nullopt;
  const fs::path root = hf_hub_cache() / ("models--" + repo.substr(0, slash) + "--" + repo.substr(slash + 1));
  std::error_code ec;
  if (!fs::is_directory(root / "snapshots", ec)) return std::nullopt;
  // refs/<revision> holds the commit hash; a revision may also be a commit hash itself.
  std::string commit = revision;
  if (std::ifstream ref(root / "refs" / revision); ref) std::getline(ref, commit);
  if (fs::is_directory(root / "snapshots" / commit, ec)) return root / "snapshots" / commit;
  if (revision != "main") return std::nullopt;
  // No refs/main (a cache copied by hand): use the only snapshot, if there is exactly one.
  std::vector<fs::path> snapshots;
  for (const auto& item : fs::directory_iterator(root / "snapshots", ec))
    if (item.is_directory()) snapshots.push_back(item.path());
  if (snapshots.size() == 1) return snapshots.front();
  return std::nullopt;
}

std::vector<std::string> close_matches(const std::string& query, const std::vector<std::string>& candidates,
                                       size_t limit) {
  const std::string q = lower(query);
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& c : candidates) {
    const std::string lc = lower(c);
    size_t d = edit_distance(q, lc);
    if (!q.empty() && (lc.find(q) != std::string::npos || q.find(lc) != std::string::npos)) d = std::min<size_t>(d, 1);
    if (d <= std::max<size_t>(2, q.size() / 3)) scored.emplace_back(d, c);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < limit; ++i) out.push_back(scored[i].second);
  return out;
}

ResolvedModel resolve_model(const std::string& spec) {
  ResolvedModel resolved;
  std::optional<std::string> plugin_override;
  std::string target = spec;

  const auto models = named_models();
  for (const auto& m : models) {
    if (m.name != spec) continue;
    resolved.named = m;
    target = m.checkpoint;
    if (!m.plugin.empty()) plugin_override = m.plugin;
    // A relative checkpoint path is relative to the yaml's folder.
    if (!target.empty() && target[0] != '/' && fs::is_directory(m.file.parent_path() / target))
      target = (m.file.parent_path() / target).string();
    break;
  }

  std::error_code ec;
  if (fs::is_directory(target, ec)) {
    resolved.dir = fs::absolute(target);
    resolved.how = resolved.named ? fmt::format("named model '{}' ({}) -> {}", spec, resolved.named->file.string(),
                                                resolved.dir.string())
                                  : fmt::format("checkpoint directory {}", resolved.dir.string());
  } else if (auto cached = find_in_hf_cache(target)) {
    resolved.dir = *cached;
    resolved.how = fmt::format("{}Hugging Face cache: {} -> {}",
                               resolved.named ? fmt::format("named model '{}', ", spec) : "", target,
                               resolved.dir.string());
  } else {
    std::vector<std::string> candidates;
    for (const auto& m : models) candidates.push_back(m.name);
    for (const auto& id : cached_repo_ids()) candidates.push_back(id);
    const auto near = close_matches(spec, candidates);
    if (resolved.named)
      fail("named model '{}' ({}) points at '{}', which is neither a directory nor a repo id in the Hugging Face "
           "cache ({}); download it there or edit the file",
           spec, resolved.named->file.string(), target, hf_hub_cache().string());
    fail("unknown model '{}': not a named model, not a directory, not in the Hugging Face cache ({}){}", spec,
         hf_hub_cache().string(),
         near.empty() ? std::string(". `vlm list` shows the named models")
                      : fmt::format(". Did you mean: {}?", fmt::join(near, ", ")));
  }

  const fs::path config = resolved.dir / "config.json";
  if (!fs::exists(config)) fail("{}: no config.json, so this is not a Hugging Face checkpoint", resolved.dir.string());
  resolved.model_type = ConfigView::load(config).get<std::string>("model_type");
  resolved.plugin = plugin_override ? &plugin_named(*plugin_override) : &plugin_for_model_type(resolved.model_type);
  return resolved;
}

}  // namespace vlm::registry
