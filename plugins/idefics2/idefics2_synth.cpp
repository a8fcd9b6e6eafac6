// Random Idefics2 checkpoints: "tiny" (the shape of the test fixture, with a sliding window shorter than a
// prompt) and "8b" (HuggingFaceM4/idefics2-8b).
#include "idefics2_family.hpp"
#include "vlm/model/synth.hpp"

namespace vlm::idefics2 {

namespace {

const std::vector<std::string> kSpecialTokens = {"<s>", "</s>", "<unk>", "<fake_token_around_image>", "<image>",
                                                 "<end_of_utterance>"};

// The family's public template (HuggingFaceM4/idefics2-8b).
constexpr const char* kChatTemplate =
    "{% for message in messages %}{{message['role'].capitalize()}}{% if message['content'][0]['type'] == 'image' "
    "%}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' "
    "%}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor "
    "%}<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

struct SizePreset {
  int64_t vision_hidden, vision_intermediate, vision_layers, vision_heads, image_size;
  int64_t latents, depth, perceiver_heads, perceiver_head_dim, perceiver_kv;
  int64_t hidden, intermediate, layers, heads, kv_heads, vocab, sliding_window;
  int64_t shortest_edge, longest_edge, image_seq_len;
  DType dtype;
};

SizePreset shape_of(std::string_view size) {
  if (size == "tiny") return {32, 64, 2, 2, 70, 8, 2, 4, 16, 2, 64, 128, 2, 4, 2, 0, 24, 42, 70, 8, DType::F32};
  if (size == "8b")
    return {1152, 4304, 27, 16, 980, 64, 3, 16, 96, 4, 4096, 14336, 32, 32, 8, 32003, 4096, 378, 980, 64,
            DType::BF16};
  fail("idefics2: unknown synthetic size '{}' (known: {})", size, fmt::join(synth_sizes(), ", "));
}

}  // namespace

std::vector<std::string> synth_sizes() { return {"tiny", "8b"}; }

SynthRecipe synth_recipe(std::string_view size) {
  const SizePreset s = shape_of(size);
  SynthRecipe r;
  r.merges = 200;
  r.special_tokens = kSpecialTokens;
  r.dtype = s.dtype;
  auto id = [&](std::string_view token) { return r.special_id(token); };
  const int64_t vocab = s.vocab ? s.vocab : r.padded_vocab();
  r.config = {
      {"architectures", {"Idefics2ForConditionalGeneration"}},
      {"model_type", "idefics2"},
      {"image_token_id", id("<image>")},
      {"tie_word_embeddings", false},
      {"vision_config",
       {{"model_type", "idefics2_vision"}, {"hidden_size", s.vision_hidden},
        {"intermediate_size", s.vision_intermediate}, {"num_hidden_layers", s.vision_layers},
        {"num_attention_heads", s.vision_heads}, {"image_size", s.image_size}, {"patch_size", 14}}},
      {"perceiver_config",
       {{"model_type", "idefics2_perceiver"}, {"hidden_size", s.hidden}, {"resampler_n_latents", s.latents},
        {"resampler_depth", s.depth}, {"resampler_n_heads", s.perceiver_heads},
        {"resampler_head_dim", s.perceiver_head_dim}, {"num_key_value_heads", s.perceiver_kv}, {"rms_norm_eps", 1e-5}}},
      {"text_config",
       {{"model_type", "mistral"}, {"hidden_size", s.hidden}, {"intermediate_size", s.intermediate},
        {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads}, {"num_key_value_heads", s.kv_heads},
        {"max_position_embeddings", 4096}, {"rms_norm_eps", 1e-5}, {"vocab_size", vocab},
        {"sliding_window", s.sliding_window}, {"pad_token_id", 0}}},
      {"torch_dtype", s.dtype == DType::BF16 ? "bfloat16" : "float32"},
      {"transformers_version", "4.47.1"},
  };
  r.generation_config = {{"bos_token_id", id("<s>")},
                         {"eos_token_id", {id("</s>"), id("<end_of_utterance>")}},
                         {"pad_token_id", id("<unk>")}};
  r.preprocessor_config = {
      {"do_convert_rgb", true}, {"do_image_splitting", false}, {"do_normalize", true}, {"do_pad", true},
      {"do_rescale", true}, {"do_resize", true}, {"image_mean", {0.5, 0.5, 0.5}}, {"image_std", {0.5, 0.5, 0.5}},
      {"image_processor_type", "Idefics2ImageProcessor"}, {"processor_class", "Idefics2Processor"},
      {"resample", 2}, {"rescale_factor", 1.0 / 255.0},
      {"size", {{"shortest_edge", s.shortest_edge}, {"longest_edge", s.longest_edge}}}};
  r.processor_config = {{"image_seq_len", s.image_seq_len}, {"processor_class", "Idefics2Processor"}};
  r.chat_template = kChatTemplate;
  r.tokenizer_config = {{"processor_class", "Idefics2Processor"}, {"bos_token", "<s>"}, {"eos_token", "</s>"},
                        {"unk_token", "<unk>"}, {"pad_token", "<unk>"}, {"add_bos_token", true},
                        {"add_eos_token", false}};
  return r;
}

}  // namespace vlm::idefics2
