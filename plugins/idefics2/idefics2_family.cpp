#include "idefics2_family.hpp"

#include "idefics2_model.hpp"

namespace vlm::idefics2 {

std::vector<TensorSpec> expected_tensors(const Config& c) {
  std::vector<TensorSpec> specs;
  VisionEncoder::declare(specs, c);
  Connector::declare(specs, c);
  TextModel::declare(specs, c.text_model());
  return specs;
}

std::vector<TensorSpec> Family::expected_tensors(const ConfigView& config) const {
  return idefics2::expected_tensors(Config::from(config));
}

std::vector<Op> Family::required_ops(const ConfigView& view) const {
  const Config c = Config::from(view);
  std::vector<Op> ops;
  VisionEncoder::add_ops(ops, c);
  Connector::add_ops(ops);
  TextModel::add_ops(ops, c.text_model());
  return ops;
}

std::unique_ptr<vlm::Model> Family::load(const LoadContext& context) const {
  return std::make_unique<idefics2::Model>(context);
}

std::string Family::summarize(const ConfigView& view) const {
  const Config c = Config::from(view);
  const auto& p = c.perceiver;
  return fmt::format(
      "text (mistral): {} layers, hidden {}, {} heads ({} kv), intermediate {}, vocab {}, sliding window {}; vision: "
      "{} layers, width {}, {} heads, patch {} ({}x{} positions); perceiver: {} latents, {} layers, {} heads ({} kv) "
      "of {}",
      c.text.num_hidden_layers, c.text.hidden_size, c.text.num_attention_heads, c.text.num_key_value_heads,
      c.text.intermediate_size, c.text.vocab_size, c.text.sliding_window ? std::to_string(c.text.sliding_window) : "none",
      c.vision.num_hidden_layers, c.vision.hidden_size, c.vision.num_attention_heads, c.vision.patch_size,
      c.vision.patches_per_side(), c.vision.patches_per_side(), p.resampler_n_latents, p.resampler_depth,
      p.resampler_n_heads, p.num_key_value_heads, p.resampler_head_dim);
}

std::vector<std::string> Family::synth_sizes() const { return idefics2::synth_sizes(); }
SynthRecipe Family::synth_recipe(std::string_view size) const { return idefics2::synth_recipe(size); }

}  // namespace vlm::idefics2

VLM_DEFINE_MODEL_PLUGIN(vlm::idefics2::Family, "idefics2", "0.1.0",
                        "Idefics2 (Idefics2ForConditionalGeneration): SigLIP-style vision encoder with NaViT "
                        "positions, perceiver resampler, Mistral decoder",
                        "idefics2")
