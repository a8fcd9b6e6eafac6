#include "vipllava_family.hpp"

#include "vipllava_model.hpp"

namespace vlm::vipllava {

std::vector<TensorSpec> Family::expected_tensors(const ConfigView& config) const {
  return vipllava::expected_tensors(Config::from(config));
}

std::vector<Op> Family::required_ops(const ConfigView& view) const {
  const Config c = Config::from(view);
  std::vector<Op> ops;
  ClipVisionTower::add_ops(ops, c.vision);
  TextModel::add_ops(ops, c.text_model());
  add_ops(ops, {Op::LayerNorm, Op::Matmul, Op::Activation});  // the projector
  return ops;
}

std::unique_ptr<vlm::Model> Family::load(const LoadContext& context) const {
  return std::make_unique<vipllava::Model>(context);
}

std::string Family::summarize(const ConfigView& view) const {
  const Config c = Config::from(view);
  return fmt::format(
      "text (llama): {} layers, hidden {}, {} heads ({} kv), intermediate {}, vocab {}{}; vision (CLIP): {} layers, "
      "width {}, {} heads, {}px patch {} -> {} tokens; projector over layers [{}]",
      c.text.num_hidden_layers, c.text.hidden_size, c.text.num_attention_heads, c.text.num_key_value_heads,
      c.text.intermediate_size, c.text.vocab_size, c.text.tie_word_embeddings ? ", tied embeddings" : "",
      c.vision.num_hidden_layers, c.vision.hidden_size, c.vision.num_attention_heads, c.vision.image_size,
      c.vision.patch_size, c.vision.num_patches(), fmt::join(c.vision_feature_layers, ", "));
}

std::vector<std::string> Family::synth_sizes() const { return vipllava::synth_sizes(); }
SynthRecipe Family::synth_recipe(std::string_view size) const { return vipllava::synth_recipe(size); }

}  // namespace vlm::vipllava

VLM_DEFINE_MODEL_PLUGIN(vlm::vipllava::Family, "vipllava", "0.1.0",
                        "VipLlava (VipLlavaForConditionalGeneration): CLIP vision tower, multi-layer feature "
                        "projector, Llama decoder",
                        "vipllava")
