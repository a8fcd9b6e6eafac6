#include "bridgetower_family.hpp"

#include "bridgetower_model.hpp"

namespace vlm::bridgetower {

std::vector<TensorSpec> Family::expected_tensors(const ConfigView& config) const {
  std::vector<TensorSpec> specs;
  Model::declare(specs, Config::from(config));
  return specs;
}

std::vector<Op> Family::required_ops(const ConfigView& config) const {
  std::vector<Op> ops;
  Model::add_ops(ops, Config::from(config));
  return ops;
}

std::unique_ptr<vlm::Model> Family::load(const LoadContext& context) const { return std::make_unique<Model>(context); }

std::string Family::summarize(const ConfigView& view) const {
  const Config c = Config::from(view);
  return fmt::format(
      "text (roberta): {} layers, hidden {}, {} heads, vocab {}; vision (clip): {} layers, width {}, {}px patch {}; "
      "cross-modal: {} layers, link tower {}, contrastive width {}",
      c.text.num_hidden_layers, c.text.hidden_size, c.text.num_attention_heads, c.text.vocab_size,
      c.vision.resblocks(), c.vision.hidden_size, c.vision.image_size, c.vision.patch_size, c.num_hidden_layers,
      c.link_tower == LinkTower::Add ? "add" : c.link_tower == LinkTower::ScaledAdd ? "scaled_add" : "interpolate",
      c.contrastive_hidden_size);
}

std::vector<std::string> Family::synth_sizes() const { return bridgetower::synth_sizes(); }
SynthRecipe Family::synth_recipe(std::string_view size) const { return bridgetower::synth_recipe(size); }

}  // namespace vlm::bridgetower

VLM_DEFINE_MODEL_PLUGIN(vlm::bridgetower::Family, "bridgetower", "0.1.0",
                        "BridgeTower (image-text matching, contrastive retrieval, masked LM): RoBERTa and CLIP "
                        "towers bridged into cross-modal layers",
                        "bridgetower")
