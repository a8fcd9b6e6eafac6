#pragma once
// BridgeTower configuration with the defaults of transformers' BridgeTowerConfig (v4.47) and its
// BridgeTowerTextConfig (RoBERTa) and BridgeTowerVisionConfig (CLIP ViT-B/16 at 288 pixels).
#include <string>

#include "vlm/io/config.hpp"
#include "vlm/nn/clip_vision.hpp"
#include "vlm/nn/embeddings.hpp"
#include "vlm/nn/transformer.hpp"

namespace vlm::bridgetower {

struct TextConfig {
  int64_t vocab_size = 50265, hidden_size = 768, num_hidden_layers = 12, num_attention_heads = 12;
  int64_t intermediate_size = 3072, max_position_embeddings = 514, type_vocab_size = 1, pad_token_id = 1;
  std::string hidden_act = "gelu";
  double layer_norm_eps = 1e-5;
  TextEmbeddingsConfig embeddings() const;
  EncoderLayerConfig layer() const;  // the RoBERTa layers, and (with cross_width) the cross-modal layers
};

struct VisionConfig {
  int64_t hidden_size = 768, num_hidden_layers = 12, num_channels = 3, patch_size = 16, image_size = 288;
  double layer_norm_eps = 1e-5;
  bool share_layernorm = true, remove_last_layer = false;
  int64_t resblocks() const { return num_hidden_layers - (remove_last_layer ? 1 : 0); }
  ClipVisionConfig clip() const;  // heads = width / 64 and a 4x QuickGELU MLP, as HF hard-codes them
};

enum class LinkTower { Add, ScaledAdd, Interpolate };

struct Config {
  TextConfig text;
  VisionConfig vision;
  int64_t hidden_size = 768, num_hidden_layers = 6, num_attention_heads = 12, contrastive_hidden_size = 512;
  double layer_norm_eps = 1e-5;
  std::string hidden_act = "gelu";
  LinkTower link_tower = LinkTower::Add;
  // Which heads config.json's architectures name (the classes save_pretrained wrote): their weights are
  // required; the others' are optional (a checkpoint may hold them anyway, as the hub's itm-mlm-itc does).
  bool declares_itm = false, declares_contrastive = false, declares_mlm = false;
  // The first text and vision layers run before the cross-modal part starts; the rest run beside it, one
  // cross-modal layer each (HF's split_index).
  int64_t split_index() const { return text.num_hidden_layers - num_hidden_layers + 1; }
  static Config from(const ConfigView& view);  // validates: Error names the key
};

}  // namespace vlm::bridgetower
