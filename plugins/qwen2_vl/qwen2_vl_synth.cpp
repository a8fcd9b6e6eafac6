// Random Qwen2-VL checkpoints: "tiny" (the shape of the test fixtures) and the real 2B / 7B shapes.
#include "qwen2_vl_family.hpp"
#include "vlm/model/synth.hpp"

namespace vlm::qwen2_vl {

namespace {

// Qwen2's special tokens in their real order (ids follow the BPE vocabulary).
const std::vector<std::string> kSpecialTokens = {
    "<|endoftext|>", "<|im_start|>",  "<|im_end|>",      "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>",   "<|quad_start|>",  "<|quad_end|>",         "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"};

// The chat template Qwen/Qwen2-VL-*-Instruct checkpoints ship.
constexpr const char* kChatTemplate =
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in "
    "messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful "
    "assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string "
    "%}{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}{% if "
    "content['type'] == 'image' or 'image' in content or 'image_url' in content %}{% set image_count.value = "
    "image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif "
    "%}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == 'video' or 'video' in content "
    "%}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value "
    "}}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}{{ "
    "content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if "
    "add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

struct SizePreset {
  int64_t hidden, intermediate, layers, heads, kv_heads, vocab;
  bool tied;
  std::array<int64_t, 3> mrope;
  int64_t vision_depth, vision_dim, vision_heads;
  int64_t max_pixels;
  DType dtype;
};

SizePreset shape_of(std::string_view size) {
  if (size == "tiny") return {64, 128, 2, 4, 2, 0, true, {2, 3, 3}, 2, 32, 2, 18816, DType::F32};
  if (size == "2b") return {1536, 8960, 28, 12, 2, 151936, true, {16, 24, 24}, 32, 1280, 16, 12845056, DType::BF16};
  if (size == "7b") return {3584, 18944, 28, 28, 4, 152064, false, {16, 24, 24}, 32, 1280, 16, 12845056, DType::BF16};
  fail("qwen2_vl: unknown synthetic size '{}' (known: {})", size, fmt::join(synth_sizes(), ", "));
}

}  // namespace

std::vector<std::string> synth_sizes() { return {"tiny", "2b", "7b"}; }

SynthRecipe synth_recipe(std::string_view size) {
  const SizePreset s = shape_of(size);
  SynthRecipe r;
  r.merges = 200;
  r.special_tokens = kSpecialTokens;
  r.dtype = s.dtype;
  auto id = [&](std::string_view token) { return r.special_id(token); };
  const int64_t vocab = s.vocab ? s.vocab : r.padded_vocab();
  r.config = {
      {"architectures", {"Qwen2VLForConditionalGeneration"}},
      {"model_type", "qwen2_vl"},
      {"attention_dropout", 0.0},
      {"bos_token_id", id("<|endoftext|>")},
      {"eos_token_id", id("<|im_end|>")},
      {"pad_token_id", id("<|endoftext|>")},
      {"hidden_act", "silu"},
      {"hidden_size", s.hidden},
      {"intermediate_size", s.intermediate},
      {"initializer_range", 0.02},
      {"max_position_embeddings", 32768},
      {"max_window_layers", s.layers},
      {"num_attention_heads", s.heads},
      {"num_hidden_layers", s.layers},
      {"num_key_value_heads", s.kv_heads},
      {"rms_norm_eps", 1e-6},
      {"rope_scaling", {{"type", "mrope"}, {"mrope_section", s.mrope}}},
      {"rope_theta", 1000000.0},
      {"sliding_window", 32768},
      {"tie_word_embeddings", s.tied},
      {"use_cache", true},
      {"use_sliding_window", false},
      {"vision_start_token_id", id("<|vision_start|>")},
      {"vision_end_token_id", id("<|vision_end|>")},
      {"vision_token_id", id("<|vision_pad|>")},
      {"image_token_id", id("<|image_pad|>")},
      {"video_token_id", id("<|video_pad|>")},
      {"vocab_size", vocab},
      {"vision_config",
       {{"depth", s.vision_depth}, {"embed_dim", s.vision_dim}, {"hidden_size", s.hidden},
        {"num_heads", s.vision_heads}, {"hidden_act", "quick_gelu"}, {"mlp_ratio", 4}, {"in_channels", 3},
        {"patch_size", 14}, {"spatial_merge_size", 2}, {"temporal_patch_size", 2}}},
      {"transformers_version", "4.47.1"},
  };
  r.generation_config = {{"bos_token_id", id("<|endoftext|>")},
                         {"eos_token_id", {id("<|im_end|>"), id("<|endoftext|>")}},
                         {"pad_token_id", id("<|endoftext|>")}};
  r.preprocessor_config = {
      {"do_convert_rgb", true}, {"do_normalize", true}, {"do_rescale", true}, {"do_resize", true},
      {"image_mean", {0.48145466, 0.4578275, 0.40821073}}, {"image_std", {0.26862954, 0.26130258, 0.27577711}},
      {"image_processor_type", "Qwen2VLImageProcessor"}, {"processor_class", "Qwen2VLProcessor"},
      {"min_pixels", 3136}, {"max_pixels", s.max_pixels}, {"merge_size", 2}, {"patch_size", 14},
      {"temporal_patch_size", 2}, {"resample", 3}, {"rescale_factor", 1.0 / 255.0},
      {"size", {{"min_pixels", 3136}, {"max_pixels", s.max_pixels}}}};
  r.chat_template = kChatTemplate;
  r.tokenizer_config = {{"tokenizer_class", "Qwen2TokenizerFast"}, {"processor_class", "Qwen2VLProcessor"},
                        {"bos_token", nullptr},  {"eos_token", "<|im_end|>"},
                        {"pad_token", "<|endoftext|>"}, {"unk_token", nullptr},
                        {"errors", "replace"}, {"split_special_tokens", false}};
  return r;
}

}  // namespace vlm::qwen2_vl
