// The tensors of a VipLlavaForConditionalGeneration checkpoint, named as transformers v4.47 saves them.
#include "vipllava_family.hpp"

namespace vlm::vipllava {

std::vector<TensorSpec> expected_tensors(const Config& c) {
  std::vector<TensorSpec> specs;
  const auto& v = c.vision;
  const std::string vm = "vision_tower.vision_model";
  specs.push_back({vm + ".embeddings.class_embedding", Shape{v.hidden_size}, false, Init::Gate});
  // Conv2d patch embedding without bias.
  specs.push_back({vm + ".embeddings.patch_embedding.weight",
                   Shape{v.hidden_size, v.num_channels, v.patch_size, v.patch_size}});
  specs.push_back({vm + ".embeddings.position_embedding.weight", Shape{v.num_patches() + 1, v.hidden_size}});
  add_norm(specs, vm + ".pre_layrnorm", v.hidden_size, true);  // HF's spelling
  for (int64_t i = 0; i < v.num_hidden_layers; ++i) {
    const std::string p = vm + ".encoder.layers." + std::to_string(i);
    add_norm(specs, p + ".layer_norm1", v.hidden_size, true);
    add_norm(specs, p + ".layer_norm2", v.hidden_size, true);
    for (const char* proj : {".self_attn.q_proj", ".self_attn.k_proj", ".self_attn.v_proj", ".self_attn.out_proj"})
      add_linear(specs, p + proj, v.hidden_size, v.hidden_size, true);
    add_linear(specs, p + ".mlp.fc1", v.hidden_size, v.intermediate_size, true);
    add_linear(specs, p + ".mlp.fc2", v.intermediate_size, v.hidden_size, true);
  }
  // CLIPVisionModel saves its post_layernorm although VipLlava reads only hidden_states (pre-norm).
  add_norm(specs, vm + ".post_layernorm", v.hidden_size, true);

  const auto& t = c.text;
  add_norm(specs, "multi_modal_projector.projector_layernorm", c.projector_input(), true);
  add_linear(specs, "multi_modal_projector.linear_1", c.projector_input(), t.hidden_size, true);
  add_linear(specs, "multi_modal_projector.linear_2", t.hidden_size, t.hidden_size, true);

  const std::string lm = "language_model.model";
  specs.push_back({lm + ".embed_tokens.weight", Shape{t.vocab_size, t.hidden_size}});
  const int64_t q_width = t.num_attention_heads * t.head_dim, kv_width = t.num_key_value_heads * t.head_dim;
  for (int64_t i = 0; i < t.num_hidden_layers; ++i) {
    const std::string p = lm + ".layers." + std::to_string(i);
    add_norm(specs, p + ".input_layernorm", t.hidden_size, false);
    add_norm(specs, p + ".post_attention_layernorm", t.hidden_size, false);
    add_linear(specs, p + ".self_attn.q_proj", t.hidden_size, q_width, t.attention_bias);
    add_linear(specs, p + ".self_attn.k_proj", t.hidden_size, kv_width, t.attention_bias);
    add_linear(specs, p + ".self_attn.v_proj", t.hidden_size, kv_width, t.attention_bias);
    add_linear(specs, p + ".self_attn.o_proj", q_width, t.hidden_size, t.attention_bias);
    add_linear(specs, p + ".mlp.gate_proj", t.hidden_size, t.intermediate_size, t.mlp_bias);
    add_linear(specs, p + ".mlp.up_proj", t.hidden_size, t.intermediate_size, t.mlp_bias);
    add_linear(specs, p + ".mlp.down_proj", t.intermediate_size, t.hidden_size, t.mlp_bias);
  }
  add_norm(specs, lm + ".norm", t.hidden_size, false);
  // Tied embeddings: HF does not save lm_head.
  specs.push_back({"language_model.lm_head.weight", Shape{t.vocab_size, t.hidden_size}, t.tie_word_embeddings});
  return specs;
}

}  // namespace vlm::vipllava
