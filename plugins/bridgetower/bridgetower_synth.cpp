// Random BridgeTower checkpoints holding all three heads, as the hub's bridgetower-large-itm-mlm-itc does:
// "tiny" (the shape of the test fixture) and "large" (BridgeTower/bridgetower-large-itm-mlm-itc).
#include "bridgetower_family.hpp"
#include "vlm/model/synth.hpp"

namespace vlm::bridgetower {

namespace {

struct SizePreset {
  int64_t hidden, layers, heads, intermediate, cross_layers, patch, image, contrastive, vocab;  // vocab 0: tokenizer's
  DType dtype;
};

SizePreset shape_of(std::string_view size) {
  if (size == "tiny") return {64, 3, 4, 128, 3, 16, 64, 32, 0, DType::F32};
  if (size == "large") return {1024, 24, 16, 4096, 6, 14, 294, 512, 50265, DType::F32};
  fail("bridgetower: unknown synthetic size '{}' (known: {})", size, fmt::join(synth_sizes(), ", "));
}

}  // namespace

std::vector<std::string> synth_sizes() { return {"tiny", "large"}; }

SynthRecipe synth_recipe(std::string_view size) {
  const SizePreset s = shape_of(size);
  SynthRecipe r;
  r.merges = 200;
  // RoBERTa's layout: <s> <pad> </s> <unk> at 0..3, <mask> last.
  r.special_tokens = {"<s>", "<pad>", "</s>", "<unk>", "<mask>"};
  r.leading_special_tokens = 4;
  r.lstrip_tokens = {"<mask>"};
  r.dtype = s.dtype;
  auto id = [&](std::string_view token) { return r.special_id(token); };
  r.post_processor = {{"type", "RobertaProcessing"}, {"sep", {"</s>", id("</s>")}}, {"cls", {"<s>", id("<s>")}},
                      {"trim_offsets", true}, {"add_prefix_space", false}};
  const int64_t vocab = s.vocab ? s.vocab : synthetic_tokenizer_size(r.merges, r.special_tokens.size());
  r.config = {
      {"architectures",
       {"BridgeTowerForImageAndTextRetrieval", "BridgeTowerForContrastiveLearning", "BridgeTowerForMaskedLM"}},
      {"model_type", "bridgetower"},
      {"hidden_size", s.hidden},
      {"num_hidden_layers", s.cross_layers},
      {"num_attention_heads", s.heads},
      {"hidden_act", "gelu"},
      {"layer_norm_eps", 1e-5},
      {"link_tower_type", "add"},
      {"share_cross_modal_transformer_layers", true},
      {"share_link_tower_layers", false},
      {"init_layernorm_from_vision_encoder", false},
      {"contrastive_hidden_size", s.contrastive},
      {"logit_scale_init_value", 2.6592},
      {"tie_word_embeddings", false},
      {"text_config",
       {{"model_type", "bridgetower_text_model"}, {"vocab_size", vocab}, {"hidden_size", s.hidden},
        {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads}, {"intermediate_size", s.intermediate},
        {"max_position_embeddings", 514}, {"type_vocab_size", 1}, {"pad_token_id", id("<pad>")},
        {"bos_token_id", id("<s>")}, {"eos_token_id", id("</s>")}, {"layer_norm_eps", 1e-5}}},
      {"vision_config",
       {{"model_type", "bridgetower_vision_model"}, {"hidden_size", s.hidden}, {"num_hidden_layers", s.layers},
        {"patch_size", s.patch}, {"image_size", s.image}, {"layer_norm_eps", 1e-5}, {"share_layernorm", true},
        {"remove_last_layer", false}}},
      {"torch_dtype", s.dtype == DType::BF16 ? "bfloat16" : "float32"},
      {"transformers_version", "4.47.1"},
  };
  r.preprocessor_config = {
      {"image_processor_type", "BridgeTowerImageProcessor"}, {"processor_class", "BridgeTowerProcessor"},
      {"do_resize", true}, {"size", {{"shortest_edge", s.image}}}, {"size_divisor", 32}, {"resample", 3},
      {"do_rescale", true}, {"rescale_factor", 1.0 / 255.0}, {"do_normalize", true},
      {"image_mean", {0.48145466, 0.4578275, 0.40821073}}, {"image_std", {0.26862954, 0.26130258, 0.27577711}},
      {"do_center_crop", true}, {"crop_size", nullptr}, {"do_pad", true}};
  r.tokenizer_config = {{"processor_class", "BridgeTowerProcessor"}, {"bos_token", "<s>"}, {"cls_token", "<s>"},
                        {"eos_token", "</s>"}, {"sep_token", "</s>"}, {"pad_token", "<pad>"},
                        {"unk_token", "<unk>"}, {"mask_token", "<mask>"}, {"model_max_length", 512}};
  return r;
}

}  // namespace vlm::bridgetower
