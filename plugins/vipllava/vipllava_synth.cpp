// Random VipLlava checkpoints: "tiny" (the shape of the test fixture) and "7b" (llava-hf/vip-llava-7b-hf).
#include "vipllava_family.hpp"
#include "vlm/model/synth.hpp"

namespace vlm::vipllava {

namespace {

// Llama's specials plus the two llava-hf adds after the sentencepiece vocabulary.
const std::vector<std::string> kSpecialTokens = {"<s>", "</s>", "<unk>", "<image>", "<pad>"};

// The family's public template (llava-hf/vip-llava-*-hf): images first, then text, "###Human: " turns.
constexpr const char* kChatTemplate =
    "{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'][0]['text'] }}"
    "{% elif message['role'] == 'user' %}{{ '###Human: '}}{% else %}{{ '###' + message['role'].title() + ': '}}"
    "{% endif %}{# Render all images first #}{% for content in message['content'] | selectattr('type', "
    "'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}{# Render all text next #}{% for content in "
    "message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] }}{% endfor %}{% endfor "
    "%}{% if add_generation_prompt %}{{ '###Assistant:' }}{% endif %}";

struct SizePreset {
  int64_t vision_hidden, vision_intermediate, vision_layers, vision_heads, image_size;
  std::vector<int64_t> feature_layers;
  int64_t hidden, intermediate, layers, heads, vocab;  // vocab 0 = the synthetic tokenizer's, padded
  int64_t max_positions;
  DType dtype;
};

SizePreset shape_of(std::string_view size) {
  if (size == "tiny") return {32, 64, 4, 2, 56, {-2, -3, -5, 1, 3}, 64, 128, 2, 4, 0, 4096, DType::F32};
  if (size == "7b")
    return {1024, 4096, 24, 16, 336, {-2, -5, -8, -11, 6}, 4096, 11008, 32, 32, 32064, 4096, DType::BF16};
  fail("vipllava: unknown synthetic size '{}' (known: {})", size, fmt::join(synth_sizes(), ", "));
}

}  // namespace

std::vector<std::string> synth_sizes() { return {"tiny", "7b"}; }

SynthRecipe synth_recipe(std::string_view size) {
  const SizePreset s = shape_of(size);
  SynthRecipe r;
  r.merges = 200;
  r.special_tokens = kSpecialTokens;
  r.dtype = s.dtype;
  auto id = [&](std::string_view token) { return r.special_id(token); };
  const int64_t vocab = s.vocab ? s.vocab : r.padded_vocab();
  constexpr int64_t kPatch = 14;
  r.config = {
      {"architectures", {"VipLlavaForConditionalGeneration"}},
      {"model_type", "vipllava"},
      {"ignore_index", -100},
      {"image_seq_length", (s.image_size / kPatch) * (s.image_size / kPatch)},
      {"image_token_index", id("<image>")},
      {"pad_token_id", id("<pad>")},
      {"projector_hidden_act", "gelu"},
      {"projector_layernorm_eps", 1e-5},
      {"vision_feature_layers", s.feature_layers},
      {"text_config",
       {{"model_type", "llama"}, {"hidden_size", s.hidden}, {"intermediate_size", s.intermediate},
        {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads}, {"num_key_value_heads", s.heads},
        {"max_position_embeddings", s.max_positions}, {"rms_norm_eps", 1e-5}, {"vocab_size", vocab},
        {"pad_token_id", id("<pad>")}}},
      {"vision_config",
       {{"model_type", "clip_vision_model"}, {"hidden_size", s.vision_hidden},
        {"intermediate_size", s.vision_intermediate}, {"num_hidden_layers", s.vision_layers},
        {"num_attention_heads", s.vision_heads}, {"image_size", s.image_size}, {"patch_size", kPatch}}},
      {"torch_dtype", s.dtype == DType::BF16 ? "bfloat16" : "float32"},
      {"transformers_version", "4.47.1"},
  };
  r.generation_config = {{"bos_token_id", id("<s>")}, {"eos_token_id", id("</s>")}, {"pad_token_id", id("<pad>")}};
  r.preprocessor_config = {
      {"crop_size", {{"height", s.image_size}, {"width", s.image_size}}},
      {"do_center_crop", true}, {"do_convert_rgb", true}, {"do_normalize", true}, {"do_rescale", true},
      {"do_resize", true}, {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
      {"image_std", {0.26862954, 0.26130258, 0.27577711}}, {"image_processor_type", "CLIPImageProcessor"},
      {"processor_class", "LlavaProcessor"}, {"resample", 3}, {"rescale_factor", 1.0 / 255.0},
      {"size", {{"shortest_edge", s.image_size}}}};
  r.processor_config = {{"image_token", "<image>"}, {"num_additional_image_tokens", 1}, {"patch_size", kPatch},
                        {"processor_class", "LlavaProcessor"}, {"vision_feature_select_strategy", "default"}};
  r.chat_template = kChatTemplate;
  r.tokenizer_config = {{"processor_class", "LlavaProcessor"}, {"bos_token", "<s>"}, {"eos_token", "</s>"},
                        {"unk_token", "<unk>"}, {"pad_token", "<pad>"}, {"add_bos_token", true},
                        {"add_eos_token", false}};
  return r;
}

}  // namespace vlm::vipllava
