// Random BLIP-2 checkpoints: "tiny-opt" and "tiny-t5" (the shapes of the test fixtures), "opt-2.7b"
// (Salesforce/blip2-opt-2.7b) and "flan-t5-xl" (Salesforce/blip2-flan-t5-xl).
#include "blip2_family.hpp"
#include "vlm/model/synth.hpp"

namespace vlm::blip2 {

namespace {

struct SizePreset {
  bool t5;
  int64_t vision_hidden, vision_intermediate, vision_layers, vision_heads, image_size;
  int64_t queries, qformer_hidden, qformer_layers, qformer_heads, qformer_intermediate;
  int64_t hidden, ffn, layers, heads, head_dim, vocab;  // vocab 0: the synthetic tokenizer's, padded
  DType dtype;
};

SizePreset shape_of(std::string_view size) {
  if (size == "tiny-opt") return {false, 32, 64, 2, 2, 56, 8, 32, 2, 2, 64, 64, 128, 2, 4, 16, 0, DType::F32};
  if (size == "tiny-t5") return {true, 32, 64, 2, 2, 56, 8, 32, 2, 2, 64, 64, 128, 2, 4, 16, 0, DType::F32};
  if (size == "opt-2.7b")
    return {false, 1408, 6144, 39, 16, 224, 32, 768, 12, 12, 3072, 2560, 10240, 32, 32, 80, 50272, DType::BF16};
  if (size == "flan-t5-xl")
    return {true, 1408, 6144, 39, 16, 224, 32, 768, 12, 12, 3072, 2048, 5120, 24, 32, 64, 32128, DType::BF16};
  fail("blip-2: unknown synthetic size '{}' (known: {})", size, fmt::join(synth_sizes(), ", "));
}

}  // namespace

std::vector<std::string> synth_sizes() { return {"tiny-opt", "tiny-t5", "opt-2.7b", "flan-t5-xl"}; }

SynthRecipe synth_recipe(std::string_view size) {
  const SizePreset s = shape_of(size);
  SynthRecipe r;
  r.merges = 200;
  r.special_tokens = s.t5 ? std::vector<std::string>{"<pad>", "</s>", "<unk>", "<image>"}
                          : std::vector<std::string>{"<pad>", "</s>", "<unk>", "<image>"};
  r.dtype = s.dtype;
  auto id = [&](std::string_view token) { return r.special_id(token); };
  const int64_t vocab = s.vocab ? s.vocab : r.padded_vocab();
  Json text;
  if (s.t5)
    text = {{"model_type", "t5"}, {"d_model", s.hidden}, {"d_kv", s.head_dim}, {"d_ff", s.ffn},
            {"num_layers", s.layers}, {"num_decoder_layers", s.layers}, {"num_heads", s.heads},
            {"feed_forward_proj", "gated-gelu"}, {"tie_word_embeddings", false}, {"vocab_size", vocab},
            {"decoder_start_token_id", id("<pad>")}, {"eos_token_id", id("</s>")}, {"pad_token_id", id("<pad>")}};
  else
    text = {{"model_type", "opt"}, {"hidden_size", s.hidden}, {"ffn_dim", s.ffn}, {"num_hidden_layers", s.layers},
            {"num_attention_heads", s.heads}, {"vocab_size", vocab}, {"word_embed_proj_dim", s.hidden},
            {"bos_token_id", id("</s>")}, {"eos_token_id", id("</s>")}, {"pad_token_id", id("<pad>")}};
  r.config = {
      {"architectures", {"Blip2ForConditionalGeneration"}},
      {"model_type", "blip-2"},
      {"num_query_tokens", s.queries},
      {"image_token_index", id("<image>")},
      {"vision_config",
       {{"model_type", "blip_2_vision_model"}, {"hidden_size", s.vision_hidden},
        {"intermediate_size", s.vision_intermediate}, {"num_hidden_layers", s.vision_layers},
        {"num_attention_heads", s.vision_heads}, {"image_size", s.image_size}, {"patch_size", 14}}},
      {"qformer_config",
       {{"model_type", "blip_2_qformer"}, {"hidden_size", s.qformer_hidden}, {"num_hidden_layers", s.qformer_layers},
        {"num_attention_heads", s.qformer_heads}, {"intermediate_size", s.qformer_intermediate},
        {"encoder_hidden_size", s.vision_hidden}}},
      {"text_config", text},
      {"torch_dtype", s.dtype == DType::BF16 ? "bfloat16" : "float32"},
      {"transformers_version", "4.47.1"},
  };
  if (s.t5)
    r.generation_config = {{"decoder_start_token_id", id("<pad>")}, {"eos_token_id", id("</s>")},
                           {"pad_token_id", id("<pad>")}};
  else
    r.generation_config = {{"bos_token_id", id("</s>")}, {"eos_token_id", id("</s>")}, {"pad_token_id", id("<pad>")}};
  r.preprocessor_config = {
      {"do_convert_rgb", true}, {"do_normalize", true}, {"do_rescale", true}, {"do_resize", true},
      {"image_mean", {0.48145466, 0.4578275, 0.40821073}}, {"image_std", {0.26862954, 0.26130258, 0.27577711}},
      {"image_processor_type", "BlipImageProcessor"}, {"processor_class", "Blip2Processor"}, {"resample", 3},
      {"rescale_factor", 1.0 / 255.0}, {"size", {{"height", s.image_size}, {"width", s.image_size}}}};
  r.processor_config = {{"num_query_tokens", s.queries}, {"processor_class", "Blip2Processor"}};
  r.tokenizer_config = {{"processor_class", "Blip2Processor"}, {"eos_token", "</s>"}, {"pad_token", "<pad>"},
                        {"unk_token", "<unk>"}};
  if (!s.t5) r.tokenizer_config["bos_token"] = "</s>";
  return r;
}

}  // namespace vlm::blip2
