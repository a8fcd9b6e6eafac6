#include "blip2_family.hpp"

#include "blip2_model.hpp"

namespace vlm::blip2 {

std::vector<TensorSpec> expected_tensors(const Config& c) {
  std::vector<TensorSpec> specs;
  VisionEncoder::declare(specs, c);
  Connector::declare(specs, c);
  if (c.encoder_decoder)
    T5PlaceholderDecoder::declare(specs, c.t5, "language_model");
  else
    TextModel::declare(specs, c.opt.text_model());
  return specs;
}

std::vector<TensorSpec> Family::expected_tensors(const ConfigView& config) const {
  return blip2::expected_tensors(Config::from(config));
}

std::vector<Op> Family::required_ops(const ConfigView& view) const {
  const Config c = Config::from(view);
  std::vector<Op> ops;
  VisionEncoder::add_ops(ops, c);
  Connector::add_ops(ops, c);
  if (c.encoder_decoder)
    T5PlaceholderDecoder::add_ops(ops, c.t5, "language_model");
  else
    TextModel::add_ops(ops, c.opt.text_model());
  return ops;
}

std::unique_ptr<vlm::Model> Family::load(const LoadContext& context) const {
  return std::make_unique<blip2::Model>(context);
}

std::string Family::summarize(const ConfigView& view) const {
  const Config c = Config::from(view);
  const std::string text =
      c.encoder_decoder
          ? fmt::format("text (t5, encoder-decoder): {} + {} layers, d_model {}, {} heads of {}, d_ff {} ({}), vocab {}",
                        c.t5.num_layers, c.t5.num_decoder_layers, c.t5.d_model, c.t5.num_heads, c.t5.d_kv, c.t5.d_ff,
                        c.t5.feed_forward_proj, c.t5.vocab_size)
          : fmt::format("text (opt): {} layers, hidden {}, {} heads, ffn {}, vocab {}", c.opt.num_hidden_layers,
                        c.opt.hidden_size, c.opt.num_attention_heads, c.opt.ffn_dim, c.opt.vocab_size);
  return fmt::format("{}; vision: {} layers, width {}, {} heads, {}px patch {}; Q-Former: {} queries, {} layers, width {}",
                     text, c.vision.num_hidden_layers, c.vision.hidden_size, c.vision.num_attention_heads,
                     c.vision.image_size, c.vision.patch_size, c.num_query_tokens, c.qformer.num_hidden_layers,
                     c.qformer.hidden_size);
}

std::vector<std::string> Family::synth_sizes() const { return blip2::synth_sizes(); }
SynthRecipe Family::synth_recipe(std::string_view size) const { return blip2::synth_recipe(size); }

}  // namespace vlm::blip2

VLM_DEFINE_MODEL_PLUGIN(vlm::blip2::Family, "blip-2", "0.1.0",
                        "BLIP-2 (Blip2ForConditionalGeneration): ViT, Q-Former, OPT decoder or Flan-T5 "
                        "encoder-decoder",
                        "blip-2")
