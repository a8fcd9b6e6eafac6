#include "mllama_family.hpp"

#include "mllama_model.hpp"

namespace vlm::mllama {

std::vector<TensorSpec> expected_tensors(const Config& c) {
  std::vector<TensorSpec> specs;
  if (!c.text_only) {
    VisionEncoder::declare(specs, c);
    add_linear(specs, "multi_modal_projector", c.vision.output_dim(), c.text.hidden_size, true);
  }
  TextModel::declare(specs, c.text_model());
  return specs;
}

std::vector<TensorSpec> Family::expected_tensors(const ConfigView& config) const {
  return mllama::expected_tensors(Config::from(config));
}

std::vector<Op> Family::required_ops(const ConfigView& view) const {
  const Config c = Config::from(view);
  std::vector<Op> ops;
  if (!c.text_only) VisionEncoder::add_ops(ops, c);
  TextModel::add_ops(ops, c.text_model());
  return ops;
}

std::unique_ptr<vlm::Model> Family::load(const LoadContext& context) const {
  return std::make_unique<mllama::Model>(context);
}

std::string Family::summarize(const ConfigView& view) const {
  const Config c = Config::from(view);
  if (c.text_only)
    return fmt::format("text only (MllamaForCausalLM): {} layers ({} cross-attention, skipped without images), hidden {}, "
                       "vocab {}",
                       c.text.num_hidden_layers, c.text.cross_attention_layers.size(), c.text.hidden_size,
                       c.text.vocab_size);
  return fmt::format(
      "text (llama 3): {} layers ({} cross-attention: [{}]), hidden {}, {} heads ({} kv), vocab {}; vision: {} local + "
      "{} global layers, width {}, {} heads, {}px tiles (up to {}), patch {}, intermediate layers [{}]",
      c.text.num_hidden_layers, c.text.cross_attention_layers.size(), fmt::join(c.text.cross_attention_layers, ", "),
      c.text.hidden_size, c.text.num_attention_heads, c.text.num_key_value_heads, c.text.vocab_size,
      c.vision.num_hidden_layers, c.vision.num_global_layers, c.vision.hidden_size, c.vision.attention_heads,
      c.vision.image_size, c.vision.max_num_tiles, c.vision.patch_size, fmt::join(c.vision.intermediate_layers_indices, ", "));
}

std::vector<std::string> Family::synth_sizes() const { return mllama::synth_sizes(); }
SynthRecipe Family::synth_recipe(std::string_view size) const { return mllama::synth_recipe(size); }

}  // namespace vlm::mllama

VLM_DEFINE_MODEL_PLUGIN(vlm::mllama::Family, "mllama", "0.1.0",
                        "Mllama (Llama 3.2 Vision, MllamaForConditionalGeneration): tiled vision encoder with gated "
                        "positions and a global transformer, gated cross-attention Llama decoder",
                        "mllama", "mllama_text_model")
