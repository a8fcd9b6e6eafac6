// config.json / generation_config.json / preprocessor_config.json readers. The input is read as each of
// them: as config.json by every installed family (the tensors it implies, the ops it needs, its summary:
// each family's Config::from with transformers' defaults), as generation_config.json, and as a CLIP
// preprocessor_config.json.
#include <memory>
#include <vector>

#include "fuzz_support.hpp"
#include "vlm/generate/generation_config.hpp"
#include "vlm/image/clip_image_processor.hpp"
#include "vlm/io/config.hpp"
#include "vlm/registry/plugins.hpp"

namespace {
std::vector<std::shared_ptr<vlm::ModelFamily>> families;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Plugins are loaded before fuzzing starts, so libFuzzer sees their coverage counters.
  for (const vlm::registry::PluginEntry& plugin : vlm::registry::discover_plugins())
    if (plugin.ok()) families.push_back(vlm::registry::create_family(plugin));
  if (families.empty()) std::abort();  // a build without plugins would fuzz nothing
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = vlm::fuzz::as_text(data, size);
  vlm::ConfigView config;
  try {
    vlm::check_json_depth(text, "config.json");
    config = vlm::ConfigView::parse(text, "config.json");
  } catch (const vlm::Error&) {
    return 0;
  }
  for (const auto& family : families) {
    vlm::fuzz::expect_errors([&] { (void)family->expected_tensors(config); });
    vlm::fuzz::expect_errors([&] { (void)family->required_ops(config); });
    vlm::fuzz::expect_errors([&] { (void)family->summarize(config); });
  }
  vlm::fuzz::expect_errors([&] {
    const auto generation = vlm::ConfigView::parse(text, "generation_config.json");
    (void)vlm::GenerationConfig::from_checkpoint(generation, config);
  });
  vlm::fuzz::expect_errors([&] {
    (void)vlm::ClipImageProcessorConfig::from(vlm::ConfigView::parse(text, "preprocessor_config.json"));
  });
  return 0;
}
