#pragma once
// The T5 text side (Flan-T5 in BLIP-2, and any family that conditions a T5 on images): T5Config with
// transformers' defaults, the shared EncoderStack and TextModel configured with T5's tensor names
// (pre-norm RMS layers without biases, unscaled attention, relative position buckets, gated-GELU or ReLU
// feed-forward), and a decoder whose image features replace the embeddings of one placeholder token in
// the encoder's input.
#include <string>

#include "vlm/io/config.hpp"
#include "vlm/nn/encoder_decoder.hpp"

namespace vlm {

// T5Config (transformers v4.47) defaults (t5-small shape) for absent keys.
struct T5Config {
  int64_t vocab_size = 32128;
  int64_t d_model = 512, d_kv = 64, d_ff = 2048;
  int64_t num_layers = 6, num_decoder_layers = 6, num_heads = 8;  // num_decoder_layers None -> num_layers
  int64_t relative_attention_num_buckets = 32, relative_attention_max_distance = 128;
  double layer_norm_epsilon = 1e-6;
  std::string feed_forward_proj = "relu";  // "<act>" or "gated-<act>"; "gated-gelu" means gelu_new
  bool tie_word_embeddings = true;
  int64_t decoder_start_token_id = 0;

  static T5Config from(const ConfigView& text_config);
  bool gated() const;
  Activation activation() const;
  // Under `prefix` (e.g. "language_model"): "<prefix>.encoder.block.N", "<prefix>.decoder.block.N",
  // "<prefix>.shared", "<prefix>.lm_head".
  EncoderStackConfig encoder(const std::string& prefix) const;
  EncoderLayerNames encoder_names() const;
  TextModelConfig decoder(const std::string& prefix) const;
};

class T5PlaceholderDecoder final : public TextModelDecoder {
 public:
  T5PlaceholderDecoder(const T5Config& config, const std::string& prefix, int64_t placeholder,
                       const WeightLoader& weights, Backend& backend);
  Conditioning conditioning() const override { return Conditioning::EncoderDecoder; }
  int64_t vocab_size() const override { return config_.vocab_size; }
  // Relative positions have no table to run out of; the session's reservation is the limit.
  int64_t max_context() const override { return 1 << 16; }
  int64_t start_token() const override { return config_.decoder_start_token_id; }

  static void declare(std::vector<TensorSpec>& specs, const T5Config& config, const std::string& prefix);
  static void add_ops(std::vector<Op>& ops, const T5Config& config, const std::string& prefix);

 private:
  std::vector<PromptRows> prompt_rows(const ModelInputs& inputs, const Tensor* vision, Workspace& ws,
                                      Trace* trace) const override;
  T5Config config_;
  EncoderStack encoder_;
  int64_t placeholder_;
};

}  // namespace vlm
