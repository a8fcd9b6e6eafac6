#pragma once
// Qwen2-VL configuration with the defaults of transformers' Qwen2VLConfig / Qwen2VLVisionConfig (v4.47),
// which apply when config.json omits a key (save_pretrained writes only non-default sub-config keys).
#include <array>
#include <string>

#include "vlm/io/config.hpp"
#include "vlm/nn/text_model.hpp"

namespace vlm::qwen2_vl {

struct VisionConfig {
  int64_t depth = 32;
  int64_t embed_dim = 1280;
  int64_t hidden_size = 3584;  // output width of the patch merger (= text hidden size)
  std::string hidden_act = "quick_gelu";
  double mlp_ratio = 4.0;
  int64_t num_heads = 16;
  int64_t in_channels = 3;
  int64_t patch_size = 14;
  int64_t spatial_merge_size = 2;
  int64_t temporal_patch_size = 2;
  int64_t mlp_hidden() const { return int64_t(double(embed_dim) * mlp_ratio); }
  int64_t merged_dim() const { return embed_dim * spatial_merge_size * spatial_merge_size; }
  // The shared ViT block with Qwen2-VL's names (norm1/norm2, fused attn.qkv, attn.proj, mlp.fc1/fc2).
  VitBlockConfig block() const;
  static VitBlockNames block_names();
};

struct Config {
  int64_t vocab_size = 152064;
  int64_t hidden_size = 8192;
  int64_t intermediate_size = 29568;
  int64_t num_hidden_layers = 80;
  int64_t num_attention_heads = 64;
  int64_t num_key_value_heads = 8;
  std::string hidden_act = "silu";
  int64_t max_position_embeddings = 32768;
  double rms_norm_eps = 1e-5;
  bool tie_word_embeddings = false;
  double rope_theta = 1000000.0;
  std::array<int64_t, 3> mrope_section{16, 24, 24};
  bool use_sliding_window = false;
  int64_t sliding_window = 4096;
  int64_t vision_start_token_id = 151652;
  int64_t vision_end_token_id = 151653;
  int64_t vision_token_id = 151654;
  int64_t image_token_id = 151655;
  int64_t video_token_id = 151656;
  VisionConfig vision;

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // The shared TextModel as Qwen2 configures it (q/k/v biases, no o_proj bias).
  TextModelConfig text_model() const;
  static Config from(const ConfigView& view);  // validates: Error names the key
};

}  // namespace vlm::qwen2_vl
