// The shared decoder blocks configured as OPT (LayerNorm with bias, ReLU fc1/fc2 MLP, biases, learned
// positions with offset 2, tied LM head) reproduce the language-model half of Hugging Face's BLIP-2 OPT on
// its golden fixture: fed the fixture's image features (the Q-Former's projected output), the engine's
// inputs_embeds, last_hidden_state, full-sequence logits, greedy ids and per-step logits match, for the
// single case and the left-padded batch (whose pads sit between the image tokens and the text).
// Tolerance: 1e-4 max abs error, ids exact.
#include <catch2/catch.hpp>

#include "support/decoder_only_model.hpp"
#include "support/fixture.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/nn/text_session.hpp"
#include "vlm/registry/backends.hpp"

namespace vlm::test {
namespace {

TextModelConfig opt_text_model(const ConfigView& text) {
  TextModelConfig m;
  m.vocab_size = text.get<int64_t>("vocab_size");
  m.layers = text.get<int64_t>("num_hidden_layers");
  m.tie_word_embeddings = text.get_or("tie_word_embeddings", true);
  m.prefix = "language_model.model.decoder";
  m.lm_head = "language_model.lm_head";
  m.final_norm = "final_layer_norm";
  m.positions = "embed_positions";
  m.position_offset = 2;
  m.max_positions = text.get_or<int64_t>("max_position_embeddings", 2048);
  auto& l = m.layer;
  l.hidden = text.get<int64_t>("hidden_size");
  l.heads = text.get<int64_t>("num_attention_heads");
  l.kv_heads = l.heads;
  l.head_dim = l.hidden / l.heads;
  l.intermediate = text.get<int64_t>("ffn_dim");
  l.qkv_bias = l.out_bias = l.mlp_bias = true;
  l.activation = activation_from_name(text.get_or<std::string>("activation_function", "relu"));
  l.norm_eps = 1e-5f;
  l.layer_norm = true;
  l.gated_mlp = false;
  l.rotary = false;
  auto& n = m.names;
  n.input_norm = "self_attn_layer_norm";
  n.post_norm = "final_layer_norm";
  n.o = "self_attn.out_proj";
  n.fc1 = "fc1";
  n.fc2 = "fc2";
  return m;
}

// What BLIP-2's plugin will wire: image features replace the <image> embeddings, learned positions count
// real tokens (HF: cumsum(mask) * mask - 1, so padding sits at -1).
class OptDecoder final : public TextModelDecoder {
 public:
  OptDecoder(const TextModelConfig& config, int64_t image_token, const WeightLoader& weights, Backend& backend)
      : TextModelDecoder(backend, TextModel::load(weights, config), {}), image_token_(image_token) {}
  int64_t vocab_size() const override { return model_.config().vocab_size; }
  int64_t max_context() const override { return model_.config().max_positions; }

 private:
  std::vector<PromptRows> prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws,
                                      Trace* trace) const override {
    const Tensor& ids = inputs.at("input_ids");
    const Tensor& mask = inputs.at("attention_mask");
    const int64_t B = ids.dim(0), S = ids.dim(1), H = model_.hidden_size();
    const std::span<const int64_t> id_span(ids.data<int64_t>(), size_t(B * S));
    const std::span<const int64_t> mask_span(mask.data<int64_t>(), size_t(B * S));
    Tensor hidden = backend_->empty(Shape{B, S, H}, DType::F32);
    Tensor flat = hidden.reshape(Shape{B * S, H});
    model_.embed(ws, id_span, flat);
    merge_features(*backend_, id_span, image_token_, vision ? *vision : Tensor(), flat, "image");
    const MaskPositions p = positions_from_mask(mask_span, B, -1);  // OPT: padding at -1
    model_.add_positions(ws, p.positions, flat);
    if (trace && trace->wants("inputs_embeds")) trace->record("inputs_embeds", hidden);
    const Tensor no_rotary = Tensor::zeros(Shape{B * S, 0}, DType::F32);
    return split_padded_batch(*backend_, hidden, no_rotary, no_rotary, mask_span, B, p.next);
  }
  int64_t image_token_;
};

}  // namespace

TEST_CASE("the decoder blocks configured as OPT match BLIP-2's language model", "[nn][opt][fixture][parity]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/blip2-opt");
  const Fixture fx(dir);
  const auto checkpoint = Checkpoint::open(fx.checkpoint());
  const auto backend = registry::create_backend("cpu");
  const TextModelConfig config = opt_text_model(checkpoint->config().child("text_config"));
  std::vector<TensorSpec> specs;
  TextModel::declare(specs, config);
  for (const auto& spec : specs) {
    INFO(spec.name);
    CHECK((checkpoint->has_tensor(spec.name) || spec.optional));
  }
  const WeightLoader weights(*checkpoint, *backend);
  DecoderOnlyModel model(std::make_unique<OptDecoder>(config, checkpoint->config().get<int64_t>("image_token_index"),
                                                 weights, *backend));
  GenerationConfig generation =
      GenerationConfig::from_checkpoint(checkpoint->generation_config(), checkpoint->config());
  generation.do_sample = false;
  generation.max_new_tokens = generation.min_new_tokens = 12;  // the fixture's generate() call

  for (const std::string name : {"single", "batch"}) {
    SECTION(name) {
      ModelInputs inputs;
      inputs.tensors.emplace("input_ids", fx.tensor(name, "input_ids").to(DType::I64));
      inputs.tensors.emplace("attention_mask", fx.tensor(name, "attention_mask").to(DType::I64));
      const Tensor features = fx.tensor(name, "image_features");  // [B, queries, hidden]
      const Tensor rows = backend->upload(features.reshape(Shape{features.dim(0) * features.dim(1), features.dim(2)}));
      TensorDump dump(*backend);
      generate_from_inputs(model, inputs, generation, {}, &dump, &rows);
      check_case_tensors(fx, name, dump.tensors(),
                         {"input_ids", "attention_mask", "inputs_embeds", "last_hidden_state", "logits",
                          "generated_ids", "generated_full_ids", "generation_step_logits"});
    }
  }
}

}  // namespace vlm::test
