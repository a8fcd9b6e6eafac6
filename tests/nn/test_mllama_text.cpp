// The shared text blocks configured as Mllama's language model (Llama 3 with llama3 RoPE scaling, gated
// cross-attention layers at cross_attention_layers with per-head q/k norms, 8 extra embedding rows past
// the LM head's vocabulary) reproduce Hugging Face's MllamaForConditionalGeneration on its golden fixture,
// fed the fixture's cross_attention_states and prepared masks (the vision side is issue "Mllama plugin"):
// inputs_embeds, last_hidden_state, full-sequence logits, greedy ids and per-step logits for one image,
// two images in one prompt, and a left-padded batch. Tolerance: 1e-4 max abs error, ids exact.
#include <cstring>

#include <catch2/catch.hpp>

#include "support/decoder_only_model.hpp"
#include "support/fixture.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/nn/rotary.hpp"
#include "vlm/nn/text_session.hpp"
#include "vlm/registry/backends.hpp"

namespace vlm::test {
namespace {

struct MllamaText {
  TextModelConfig model;
  RopeScaling rope;
  double theta = 500000.0;
  int64_t max_positions = 131072;
};

MllamaText mllama_text(const ConfigView& t) {
  MllamaText m;
  auto& c = m.model;
  const int64_t vocab = t.get_or<int64_t>("vocab_size", 128256);
  c.vocab_size = vocab + 8;  // the embedding table holds the image token and 7 more past the text vocabulary
  c.lm_head_vocab = vocab;
  c.layers = t.get_or<int64_t>("num_hidden_layers", 40);
  c.cross_layers = t.get<std::vector<int64_t>>("cross_attention_layers");
  c.prefix = "language_model.model";
  c.lm_head = "language_model.lm_head";
  auto& l = c.layer;
  l.hidden = t.get_or<int64_t>("hidden_size", 4096);
  l.heads = t.get_or<int64_t>("num_attention_heads", 32);
  l.kv_heads = t.get_or<int64_t>("num_key_value_heads", 8);
  l.head_dim = l.hidden / l.heads;
  l.intermediate = t.get_or<int64_t>("intermediate_size", 14336);
  l.norm_eps = float(t.get_or("rms_norm_eps", 1e-5));
  m.theta = t.get_or("rope_theta", m.theta);
  m.rope = RopeScaling::from(t.child("rope_scaling"));
  return m;
}

// What the Mllama plugin will wire: text embeddings (no merge), 1-D llama3 rotary over real tokens, and
// per row the cross-attention context from the image states and the prepared masks.
class MllamaTextDecoder final : public TextModelDecoder {
 public:
  MllamaTextDecoder(const MllamaText& config, const WeightLoader& weights, Backend& backend)
      : TextModelDecoder(backend, TextModel::load(weights, config.model),
                         rope_inverse_frequencies(config.model.layer.head_dim, config.theta, config.rope)),
        max_positions_(config.max_positions) {}
  int64_t vocab_size() const override { return model_.config().output_vocab(); }
  int64_t max_context() const override { return max_positions_; }

 private:
  std::vector<PromptRows> prompt_rows(const ModelInputs& inputs, const Tensor*, Workspace& ws,
                                      Trace* trace) const override {
    const Tensor& ids = inputs.at("input_ids");
    const Tensor& mask = inputs.at("attention_mask");
    const int64_t B = ids.dim(0), S = ids.dim(1), H = model_.hidden_size(), D = model_.head_dim();
    const std::span<const int64_t> id_span(ids.data<int64_t>(), size_t(B * S));
    const std::span<const int64_t> mask_span(mask.data<int64_t>(), size_t(B * S));
    Tensor hidden = backend_->empty(Shape{B, S, H}, DType::F32);
    Tensor flat = hidden.reshape(Shape{B * S, H});
    model_.embed(ws, id_span, flat);
    if (trace && trace->wants("inputs_embeds")) trace->record("inputs_embeds", hidden);
    const MaskPositions p = positions_from_mask(mask_span, B, 1);  // HF's masked_fill(mask == 0, 1)
    const auto& next = p.next;
    Tensor cos = Tensor::zeros(Shape{B * S, D}, DType::F32), sin = Tensor::zeros(Shape{B * S, D}, DType::F32);
    rope_tables_1d(p.positions, inv_freq_, cos, sin);
    auto rows = split_padded_batch(*backend_, hidden, cos, sin, mask_span, B, next);

    const Tensor& states = inputs.at("cross_attention_states");  // [B, images, tiles, patches, H]
    const Tensor& prepared = inputs.at("prepared_cross_attention_mask");  // [B, 1, S, T]
    const Tensor& row_mask = inputs.at("full_text_row_masked_out_mask");  // [B, 1, S, 1]
    const int64_t T = prepared.dim(3);
    for (int64_t b = 0; b < B; ++b) {
      auto cross = std::make_shared<CrossContext>();
      const Tensor row_states = backend_->upload(states.reshape(Shape{B * T, H}).rows(b * T, T).clone());
      cross->layers = model_.project_cross(ws, row_states);
      cross->mask = Tensor::zeros(Shape{next[size_t(b)], T}, DType::F32);
      int64_t k = 0;
      for (int64_t s = 0; s < S; ++s) {
        if (!mask_span[size_t(b * S + s)]) continue;
        std::memcpy(cross->mask.data<float>() + k * T, prepared.data<float>() + (b * S + s) * T, size_t(T) * sizeof(float));
        cross->row_gate.push_back(row_mask.data<float>()[b * S + s]);
        ++k;
      }
      rows[size_t(b)].cross = cross;
    }
    return rows;
  }
  int64_t max_positions_;
};

}  // namespace

TEST_CASE("the text blocks configured as Mllama match its language model, cross-attention included",
          "[nn][mllama][fixture][parity]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/mllama");
  const Fixture fx(dir);
  const auto checkpoint = Checkpoint::open(fx.checkpoint());
  const auto backend = registry::create_backend("cpu");
  const MllamaText config = mllama_text(checkpoint->config().child("text_config"));
  std::vector<TensorSpec> specs;
  TextModel::declare(specs, config.model);
  for (const auto& spec : specs) {
    INFO(spec.name);
    CHECK(checkpoint->has_tensor(spec.name));
  }
  DecoderOnlyModel model(std::make_unique<MllamaTextDecoder>(config, WeightLoader(*checkpoint, *backend), *backend));
  GenerationConfig generation =
      GenerationConfig::from_checkpoint(checkpoint->generation_config(), checkpoint->config());
  generation.do_sample = false;
  generation.max_new_tokens = generation.min_new_tokens = 12;  // the fixture's generate() call

  for (const std::string name : {"single", "multi", "batch"}) {
    SECTION(name) {
      ModelInputs inputs;
      for (const char* what : {"input_ids", "attention_mask"}) inputs.tensors.emplace(what, fx.tensor(name, what).to(DType::I64));
      for (const char* what : {"cross_attention_states", "prepared_cross_attention_mask", "full_text_row_masked_out_mask"})
        inputs.tensors.emplace(what, fx.tensor(name, what).to(DType::F32));
      TensorDump dump(*backend);
      const Tensor no_vision;
      generate_from_inputs(model, inputs, generation, {}, &dump, &no_vision);
      check_case_tensors(fx, name, dump.tensors(),
                         {"input_ids", "attention_mask", "inputs_embeds", "last_hidden_state", "logits",
                          "generated_ids", "generated_full_ids", "generation_step_logits"});
    }
  }
}

}  // namespace vlm::test
