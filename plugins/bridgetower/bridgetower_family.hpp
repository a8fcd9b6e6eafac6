#pragma once
#include <vector>

#include "bridgetower_config.hpp"
#include "vlm/sdk.hpp"

namespace vlm::bridgetower {

SynthRecipe synth_recipe(std::string_view size);
std::vector<std::string> synth_sizes();

class Family final : public ModelFamily {
 public:
  std::vector<TensorSpec> expected_tensors(const ConfigView& config) const override;
  std::vector<Op> required_ops(const ConfigView& config) const override;
  std::unique_ptr<vlm::Model> load(const LoadContext& context) const override;
  std::string summarize(const ConfigView& config) const override;
  std::vector<std::string> synth_sizes() const override;
  SynthRecipe synth_recipe(std::string_view size) const override;
};

}  // namespace vlm::bridgetower
