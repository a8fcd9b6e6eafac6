#include "qwen2_vl_family.hpp"

#include "qwen2_vl_model.hpp"

namespace vlm::qwen2_vl {

std::vector<TensorSpec> Family::expected_tensors(const ConfigView& config) const {
  return qwen2_vl::expected_tensors(Config::from(config));
}

std::vector<Op> Family::required_ops(const ConfigView& view) const {
  const Config c = Config::from(view);
  std::vector<Op> ops;
  VitBlock::add_ops(ops, c.vision.block());
  TextModel::add_ops(ops, c.text_model());
  // 2-D vision rotary, the patch merger (LayerNorm, GELU MLP) and pixel reordering.
  add_ops(ops, {Op::Rotary, Op::LayerNorm, Op::Activation, Op::Concat, Op::Slice, Op::Permute});
  return ops;
}

std::unique_ptr<vlm::Model> Family::load(const LoadContext& context) const {
  return std::make_unique<qwen2_vl::Model>(context);
}

std::string Family::summarize(const ConfigView& view) const {
  const Config c = Config::from(view);
  return fmt::format(
      "text: {} layers, hidden {}, {} heads ({} kv), intermediate {}, vocab {}, M-RoPE sections [{}, {}, {}]{}; "
      "vision: {} blocks, width {}, {} heads, patch {}x{} (temporal {}), merge {}x{} -> {}",
      c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.num_key_value_heads, c.intermediate_size,
      c.vocab_size, c.mrope_section[0], c.mrope_section[1], c.mrope_section[2],
      c.tie_word_embeddings ? ", tied embeddings" : "", c.vision.depth, c.vision.embed_dim, c.vision.num_heads,
      c.vision.patch_size, c.vision.patch_size, c.vision.temporal_patch_size, c.vision.spatial_merge_size,
      c.vision.spatial_merge_size, c.vision.hidden_size);
}

std::vector<std::string> Family::synth_sizes() const { return qwen2_vl::synth_sizes(); }
SynthRecipe Family::synth_recipe(std::string_view size) const { return qwen2_vl::synth_recipe(size); }

}  // namespace vlm::qwen2_vl

VLM_DEFINE_MODEL_PLUGIN(vlm::qwen2_vl::Family, "qwen2_vl", "0.1.0",
                        "Qwen2-VL (Qwen2VLForConditionalGeneration): dynamic-resolution ViT, patch merger, "
                        "Qwen2 decoder with M-RoPE",
                        "qwen2_vl")
