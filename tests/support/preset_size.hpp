#pragma once
// Parameters a family declares for one of its synthetic presets, without writing the checkpoint: full
// sizes are checked against the hub models' counts from the declaration alone (GBs are for benchmarks).
#include <cstdint>
#include <string_view>

#include "vlm/io/config.hpp"
#include "vlm/model/family.hpp"

namespace vlm::test {

inline int64_t preset_parameters(const ModelFamily& family, std::string_view size) {
  const auto recipe = family.synth_recipe(size);
  int64_t parameters = 0;
  for (const auto& spec : family.expected_tensors(ConfigView::parse(recipe.config.dump(), "config.json")))
    if (!spec.optional) parameters += spec.shape.numel();
  return parameters;
}

}  // namespace vlm::test
