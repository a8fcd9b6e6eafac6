#pragma once
// The CLIP vision tower (VisionEncoder) returning the concatenated hidden states VipLlava reads, and the
// multi-layer projector (Connector) that maps them to the text width.
#include <vector>

#include "vipllava_config.hpp"
#include "vlm/nn/transformer.hpp"
#include "vlm/sdk.hpp"

namespace vlm::vipllava {

// pixel_values [B, 3, S, S] -> [B, patches, layers * width]: CLIP embeddings (patch Conv2d as patchify +
// matmul, class token, learned positions), pre_layrnorm, encoder layers; for each of
// vision_feature_layers the hidden state (CLS dropped), concatenated along the width.
// Traces vision_hidden_states [layers + 1, B, 1 + patches, width] and vision_features_concat.
class VisionTower final : public VisionEncoder {
 public:
  VisionTower(const Config& config, const WeightLoader& weights, Backend& backend);
  Tensor encode(const ModelInputs& inputs, Trace* trace) override;

 private:
  Tensor embed(Workspace& ws, const Tensor& pixels);  // -> [B, 1 + patches, width], before pre_layrnorm

  Config config_;
  Backend* backend_;
  Tensor patch_embedding_;     // [width, C*P*P]
  Tensor class_embedding_;     // [1, width] f32
  Tensor position_embedding_;  // [1 + patches, width] f32
  Norm pre_layernorm_;
  std::vector<VitBlock> layers_;
};

// LayerNorm over the concatenated features, Linear, projector_hidden_act, Linear: [B, patches, in] ->
// [B * patches, text hidden] (rows in image order, as the <image> slots are filled). Traces image_features.
class Projector final : public Connector {
 public:
  Projector(const Config& config, const WeightLoader& weights, Backend& backend);
  Tensor project(const Tensor& vision_states, const ModelInputs& inputs, Trace* trace) override;

 private:
  Config config_;
  Backend* backend_;
  Norm norm_;
  Linear linear_1_, linear_2_;
  Activation activation_;
};

}  // namespace vlm::vipllava
