// The shared encoder and decoder blocks configured as T5 (pre-norm RMS layers without biases, unscaled
// attention, relative position buckets, gated-GELU feed-forward, a cross-attention sublayer in every
// decoder layer) reproduce the language-model half of Hugging Face's BLIP-2 Flan-T5 on its golden fixture:
// fed the fixture's image features, the engine's encoder output, greedy ids, per-step logits and the
// teacher-forced decoder states and logits match, for the single case and the left-padded batch (whose pads
// sit between the image tokens and the text, so the encoder's relative positions must count them).
// Tolerance: 1e-4 max abs error, ids exact.
#include <catch2/catch.hpp>

#include "support/decoder_only_model.hpp"
#include "support/fixture.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/tensor_dump.hpp"
#include "vlm/nn/t5.hpp"
#include "vlm/registry/backends.hpp"

namespace vlm::test {

TEST_CASE("T5 relative position buckets follow Hugging Face's bucketing", "[nn][t5]") {
  // Values of transformers v4.47.1 T5Attention._relative_position_bucket (32 buckets, max distance 128),
  // evaluated in float32 as torch does.
  const RelativePositionConfig bi{32, 128, true}, causal{32, 128, false};
  const std::vector<std::pair<int64_t, int64_t>> bidirectional = {
      {0, 0}, {1, 17}, {-1, 1}, {7, 23}, {-7, 7}, {8, 24}, {-8, 8}, {12, 25}, {-20, 10}, {64, 30}, {-127, 15}, {500, 31}, {-500, 15}};
  for (const auto& [d, bucket] : bidirectional) {
    INFO("bidirectional distance " << d);
    CHECK(relative_position_bucket(d, bi) == bucket);
  }
  const std::vector<std::pair<int64_t, int64_t>> backward = {
      {0, 0}, {5, 0}, {-1, 1}, {-15, 15}, {-16, 16}, {-20, 17}, {-40, 23}, {-100, 30}, {-127, 31}, {-1000, 31}};
  for (const auto& [d, bucket] : backward) {
    INFO("causal distance " << d);
    CHECK(relative_position_bucket(d, causal) == bucket);
  }
}

TEST_CASE("the encoder and decoder blocks configured as T5 match BLIP-2's Flan-T5", "[nn][t5][fixture][parity]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/blip2-t5");
  const Fixture fx(dir);
  const auto checkpoint = Checkpoint::open(fx.checkpoint());
  const auto backend = registry::create_backend("cpu");
  const T5Config config = T5Config::from(checkpoint->config().child("text_config"));
  std::vector<TensorSpec> specs;
  T5PlaceholderDecoder::declare(specs, config, "language_model");
  for (const auto& spec : specs) {
    INFO(spec.name);
    CHECK((checkpoint->has_tensor(spec.name) || spec.optional));
  }
  const WeightLoader weights(*checkpoint, *backend);
  DecoderOnlyModel model(std::make_unique<T5PlaceholderDecoder>(
      config, "language_model", checkpoint->config().get<int64_t>("image_token_index"), weights, *backend));
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
      // Encoder rows at padding are HF's arithmetic on masked positions; the decoder has no padding.
      CaseTolerances tolerances;
      tolerances.attended_rows_only = {"encoder_last_hidden_state"};
      check_case_tensors(fx, name, dump.tensors(),
                         {"input_ids", "attention_mask", "encoder_last_hidden_state", "generated_ids",
                          "generated_full_ids", "generation_step_logits", "decoder_input_ids",
                          "decoder_last_hidden_state", "logits"},
                         tolerances);
    }
  }
}

}  // namespace vlm::test
