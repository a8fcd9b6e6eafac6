// Random Mllama checkpoints: "tiny" (the shape of the test fixture) and "11b"
// (meta-llama/Llama-3.2-11B-Vision-Instruct).
#include "mllama_family.hpp"
#include "vlm/model/synth.hpp"

namespace vlm::mllama {

namespace {

// <|image|> last: the text vocabulary ends just before it, as in Llama 3.2 Vision (id = vocab_size).
const std::vector<std::string> kSpecialTokens = {"<|begin_of_text|>", "<|end_of_text|>", "<|finetune_right_pad_id|>",
                                                 "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>",
                                                 "<|eot_id|>", "<|image|>"};

constexpr const char* kChatTemplate =
    "{{- bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n{% if "
    "message['content'] is string %}{{ message['content'] | trim }}{% else %}{% for content in message['content'] %}{% "
    "if content['type'] == 'image' %}<|image|>{% elif content['type'] == 'text' %}{{ content['text'] | trim }}{% endif "
    "%}{% endfor %}{% endif %}<|eot_id|>{% endfor %}{% if add_generation_prompt "
    "%}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}";

struct SizePreset {
  int64_t vision_hidden, vision_intermediate, local_layers, global_layers, vision_heads, tile;
  std::vector<int64_t> intermediate_layers;
  int64_t hidden, intermediate, layers, heads, kv_heads, vocab;  // vocab 0: the synthetic tokenizer's
  std::vector<int64_t> cross_layers;
  DType dtype;
};

SizePreset shape_of(std::string_view size) {
  if (size == "tiny") return {32, 64, 3, 2, 2, 56, {0, 2}, 64, 128, 4, 4, 2, 0, {1, 3}, DType::F32};
  if (size == "11b")
    return {1280, 5120, 32, 8, 16, 560, {3, 7, 15, 23, 30}, 4096, 14336, 40, 32, 8, 128256,
            {3, 8, 13, 18, 23, 28, 33, 38}, DType::BF16};
  fail("mllama: unknown synthetic size '{}' (known: {})", size, fmt::join(synth_sizes(), ", "));
}

}  // namespace

std::vector<std::string> synth_sizes() { return {"tiny", "11b"}; }

SynthRecipe synth_recipe(std::string_view size) {
  const SizePreset s = shape_of(size);
  SynthRecipe r;
  r.merges = 200;
  r.special_tokens = kSpecialTokens;
  r.dtype = s.dtype;
  auto id = [&](std::string_view token) { return r.special_id(token); };
  // The tiny text vocabulary ends just before <|image|>, as the real one ends before its image token (128256).
  // The 11b shape keeps the real embedding sizes; its image token is the synthetic tokenizer's, which then
  // lies inside the text vocabulary (the processor requires config and tokenizer to agree).
  const int64_t vocab = s.vocab ? s.vocab : id("<|image|>");
  const int64_t image_token = id("<|image|>");
  const int64_t output_dim = s.vision_hidden * (1 + int64_t(s.intermediate_layers.size()));
  r.config = {
      {"architectures", {"MllamaForConditionalGeneration"}},
      {"model_type", "mllama"},
      {"image_token_index", image_token},
      {"vision_config",
       {{"model_type", "mllama_vision_model"}, {"hidden_size", s.vision_hidden},
        {"intermediate_size", s.vision_intermediate}, {"num_hidden_layers", s.local_layers},
        {"num_global_layers", s.global_layers}, {"attention_heads", s.vision_heads}, {"image_size", s.tile},
        {"patch_size", 14}, {"max_num_tiles", 4}, {"intermediate_layers_indices", s.intermediate_layers},
        {"vision_output_dim", output_dim}}},
      {"text_config",
       {{"model_type", "mllama_text_model"}, {"hidden_size", s.hidden}, {"intermediate_size", s.intermediate},
        {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads}, {"num_key_value_heads", s.kv_heads},
        {"vocab_size", vocab}, {"cross_attention_layers", s.cross_layers}, {"rope_theta", 500000.0},
        {"rope_scaling",
         {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
          {"original_max_position_embeddings", 8192}}},
        {"max_position_embeddings", 131072}}},
      {"torch_dtype", s.dtype == DType::BF16 ? "bfloat16" : "float32"},
      {"transformers_version", "4.47.1"},
  };
  r.generation_config = {{"bos_token_id", id("<|begin_of_text|>")},
                         {"eos_token_id", {id("<|end_of_text|>"), id("<|eom_id|>"), id("<|eot_id|>")}},
                         {"pad_token_id", id("<|finetune_right_pad_id|>")}};
  r.preprocessor_config = {
      {"do_convert_rgb", true}, {"do_normalize", true}, {"do_pad", true}, {"do_rescale", true}, {"do_resize", true},
      {"image_mean", {0.48145466, 0.4578275, 0.40821073}}, {"image_std", {0.26862954, 0.26130258, 0.27577711}},
      {"image_processor_type", "MllamaImageProcessor"}, {"max_image_tiles", 4}, {"processor_class", "MllamaProcessor"},
      {"resample", 2}, {"rescale_factor", 1.0 / 255.0}, {"size", {{"height", s.tile}, {"width", s.tile}}}};
  r.chat_template = kChatTemplate;
  r.tokenizer_config = {{"processor_class", "MllamaProcessor"}, {"bos_token", "<|begin_of_text|>"},
                        {"eos_token", "<|eot_id|>"}, {"pad_token", "<|finetune_right_pad_id|>"}};
  return r;
}

}  // namespace vlm::mllama
