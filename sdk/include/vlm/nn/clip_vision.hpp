#pragma once
// CLIP's vision transformer (transformers' CLIPVisionModel, `vision_model`), shared by the families that
// use it as their image tower (VipLlava, LLaVA): patch embedding (a Conv2d whose kernel equals its stride,
// run as patchify + matmul), class token, learned positions, pre_layrnorm, pre-norm encoder layers.
// Families choose which hidden states they read, as HF indexes its hidden_states tuple.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vlm/model/components.hpp"
#include "vlm/model/tensor_spec.hpp"
#include "vlm/nn/transformer.hpp"

namespace vlm {

// CLIPVisionConfig, with transformers' defaults (openai/clip-vit-base-patch32 shape) for absent keys.
struct ClipVisionConfig {
  int64_t hidden_size = 768;
  int64_t intermediate_size = 3072;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t num_channels = 3;
  int64_t image_size = 224;
  int64_t patch_size = 32;
  std::string hidden_act = "quick_gelu";
  double layer_norm_eps = 1e-5;

  int64_t patches_per_side() const { return image_size / patch_size; }
  int64_t num_patches() const { return patches_per_side() * patches_per_side(); }
  int64_t patch_row() const { return num_channels * patch_size * patch_size; }  // flattened Conv2d kernel
  // A hidden_states index (0 = embeddings after pre_layrnorm, i = after layer i, negative from the end)
  // resolved to 0..num_hidden_layers; Error naming `where` when out of range.
  int64_t resolve_layer(int64_t index, const std::string& where) const;
  // From a vision_config object, `defaults` for absent keys; validates (Error names the key).
  static ClipVisionConfig from(const ConfigView& vision_config, const ClipVisionConfig& defaults);
  static ClipVisionConfig from(const ConfigView& vision_config) { return from(vision_config, ClipVisionConfig()); }
};

// HF names under the tower's prefix; the defaults are transformers' CLIPVisionModel. OpenAI-CLIP layouts
// (BridgeTower's `visual`): ln_pre, transformer.resblocks, ln_1/ln_2, a fused attn.in_proj, mlp.c_fc/c_proj.
struct ClipVisionNames {
  std::string embeddings = "embeddings", pre_norm = "pre_layrnorm", layers = "encoder.layers";
  std::string post_norm = "post_layernorm";
  VitBlockNames block;
  bool fused_qkv = false;
};

class ClipVisionTower {
 public:
  // `prefix` is where the checkpoint keeps the vision model, e.g. "vision_tower.vision_model".
  static ClipVisionTower load(const WeightLoader& weights, const std::string& prefix, const ClipVisionConfig& config,
                              const ClipVisionNames& names = {});
  // Every tensor CLIPVisionModel saves (post_layernorm too, which hidden-state readers do not use).
  static void declare(std::vector<TensorSpec>& specs, const std::string& prefix, const ClipVisionConfig& config,
                      const ClipVisionNames& names = {});
  static void add_ops(std::vector<Op>& ops, const ClipVisionConfig& config, const ClipVisionNames& names = {});

  // pixel_values [images, C, S, S] (host, S = image_size) -> the hidden states at `layers` (resolved
  // indices, in order), the class token dropped when `drop_class_token`, concatenated along the width:
  // [images, tokens, layers.size() * hidden]. Layers past the deepest one asked for are not run. Traces
  // "vision_hidden_states" [layers + 1, images, 1 + patches, hidden] when wanted.
  Tensor hidden_states(Backend& backend, const Tensor& pixel_values, std::span<const int64_t> layers,
                       bool drop_class_token, Trace* trace) const;
  // The same states one by one: [images, tokens, hidden] each, in the order of `layers`.
  std::vector<Tensor> layer_states(Backend& backend, const Tensor& pixel_values, std::span<const int64_t> layers,
                                   bool drop_class_token, Trace* trace) const;
  const ClipVisionConfig& config() const { return config_; }
  // The post-norm (post_layernorm / ln_post), for families that normalise the states they read.
  const Norm& post_layernorm() const { return post_layernorm_; }

 private:
  ClipVisionConfig config_;
  Tensor patch_embedding_;     // [width, C*P*P]
  Tensor class_embedding_;     // [1, width] f32
  Tensor position_embedding_;  // [1 + patches, width] f32
  Norm pre_layernorm_, post_layernorm_;
  std::vector<VitBlock> layers_;
  std::shared_ptr<WorkspacePool> workspaces_;  // scratch for concurrent calls, reused between them
};

}  // namespace vlm
