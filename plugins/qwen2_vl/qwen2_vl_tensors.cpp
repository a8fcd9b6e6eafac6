// The tensors of a Qwen2VLForConditionalGeneration checkpoint, named as transformers v4.47 saves them.
#include "qwen2_vl_family.hpp"

namespace vlm::qwen2_vl {

std::vector<TensorSpec> expected_tensors(const Config& c) {
  std::vector<TensorSpec> specs;
  const auto& v = c.vision;
  // Conv3d patch embedding without bias: [embed, C, T, P, P].
  specs.push_back({"visual.patch_embed.proj.weight",
                   Shape{v.embed_dim, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size}});
  for (int64_t i = 0; i < v.depth; ++i) {
    const std::string p = "visual.blocks." + std::to_string(i);
    add_norm(specs, p + ".norm1", v.embed_dim, true);
    add_norm(specs, p + ".norm2", v.embed_dim, true);
    add_linear(specs, p + ".attn.qkv", v.embed_dim, 3 * v.embed_dim, true);
    add_linear(specs, p + ".attn.proj", v.embed_dim, v.embed_dim, true);
    add_linear(specs, p + ".mlp.fc1", v.embed_dim, v.mlp_hidden(), true);
    add_linear(specs, p + ".mlp.fc2", v.mlp_hidden(), v.embed_dim, true);
  }
  add_norm(specs, "visual.merger.ln_q", v.embed_dim, true);
  add_linear(specs, "visual.merger.mlp.0", v.merged_dim(), v.merged_dim(), true);
  add_linear(specs, "visual.merger.mlp.2", v.merged_dim(), v.hidden_size, true);

  const int64_t head_dim = c.head_dim();
  specs.push_back({"model.embed_tokens.weight", Shape{c.vocab_size, c.hidden_size}});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i);
    add_norm(specs, p + ".input_layernorm", c.hidden_size, false);
    add_norm(specs, p + ".post_attention_layernorm", c.hidden_size, false);
    add_linear(specs, p + ".self_attn.q_proj", c.hidden_size, c.num_attention_heads * head_dim, true);
    add_linear(specs, p + ".self_attn.k_proj", c.hidden_size, c.num_key_value_heads * head_dim, true);
    add_linear(specs, p + ".self_attn.v_proj", c.hidden_size, c.num_key_value_heads * head_dim, true);
    add_linear(specs, p + ".self_attn.o_proj", c.num_attention_heads * head_dim, c.hidden_size, false);
    add_linear(specs, p + ".mlp.gate_proj", c.hidden_size, c.intermediate_size, false);
    add_linear(specs, p + ".mlp.up_proj", c.hidden_size, c.intermediate_size, false);
    add_linear(specs, p + ".mlp.down_proj", c.intermediate_size, c.hidden_size, false);
  }
  add_norm(specs, "model.norm", c.hidden_size, false);
  // Tied embeddings: HF does not save lm_head (and ignores one if present).
  specs.push_back({"lm_head.weight", Shape{c.vocab_size, c.hidden_size}, c.tie_word_embeddings});
  return specs;
}

}  // namespace vlm::qwen2_vl
