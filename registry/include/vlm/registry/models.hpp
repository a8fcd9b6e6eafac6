#pragma once
// Resolves what the user typed after --model into a checkpoint directory and the plugin serving it:
//   (a) a name defined in configs/models/*.yaml          e.g. qwen2-vl-2b
//   (b) a checkpoint directory                             e.g. ./models/tiny-qwen2-vl
//   (c) a Hugging Face repo id in the local HF cache       e.g. Qwen/Qwen2-VL-2B-Instruct[@revision]
// Nothing is ever downloaded.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "vlm/io/config.hpp"
#include "vlm/registry/plugins.hpp"

namespace vlm::registry {

struct NamedModel {
  std::string name;
  std::string description;
  std::string checkpoint;  // a directory (relative to the yaml file's folder) or a repo id
  std::string plugin;      // optional: plugin name overriding config.json's model_type
  Json generation = Json::object();  // default generation settings (max_new_tokens, temperature, ...)
  std::filesystem::path file;        // the yaml it came from
};

// Every named model in config_dirs()/models/*.yaml (the first definition of a name wins). A malformed
// file is an Error naming the file and line.
std::vector<NamedModel> named_models();
NamedModel parse_named_model(const std::filesystem::path& yaml_file);

// The HF hub cache folder: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
std::filesystem::path hf_hub_cache();
// The snapshot folder of `repo_id` ("org/name", optionally "@revision") following refs/<revision or
// main>; nullopt when not in the cache.
std::optional<std::filesystem::path> find_in_hf_cache(const std::string& repo_id);

struct ResolvedModel {
  std::filesystem::path dir;
  std::string how;                   // one line: how the spec was resolved
  std::optional<NamedModel> named;   // when resolved through a named model
  std::string model_type;            // from config.json
  const PluginEntry* plugin = nullptr;
};

// Error for an unknown spec lists the close matches among named models and cached repo ids.
ResolvedModel resolve_model(const std::string& spec);

// Names within a small edit distance of `query` (case-insensitive), best first.
std::vector<std::string> close_matches(const std::string& query, const std::vector<std::string>& candidates,
                                       size_t limit = 5);

}  // namespace vlm::registry
