#pragma once
// The CLIP vision tower (VisionEncoder) returning the concatenated hidden states VipLlava reads, and the
// multi-layer projector (Connector) that maps them to the text width.
#include <vector>

#include "vipllava_config.hpp"
#include "vlm/nn/clip_vision.hpp"
#include "vlm/sdk.hpp"

namespace vlm::vipllava {

// pixel_values [B, 3, S, S] -> [B, patches, layers * width]: the shared CLIP tower's hidden states at
// vision_feature_layers (CLS dropped), concatenated along the width. Traces vision_hidden_states and
// vision_features_concat.
class VisionTower final : public VisionEncoder {
 public:
  VisionTower(const Config& config, const WeightLoader& weights, Backend& backend);
  Tensor encode(const ModelInputs& inputs, Trace* trace) override;

 private:
  Backend* backend_;
  ClipVisionTower tower_;
  std::vector<int64_t> layers_;
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
  WorkspacePool workspaces_;  // scratch for concurrent calls, reused between them
  Norm norm_;
  Linear linear_1_, linear_2_;
  Activation activation_;
};

}  // namespace vlm::vipllava
