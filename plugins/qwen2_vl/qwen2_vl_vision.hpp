#pragma once
// The Qwen2-VL vision tower (VisionEncoder) and its 2x2 patch merger (Connector).
#include <vector>

#include "qwen2_vl_config.hpp"
#include "qwen2_vl_grids.hpp"
#include "vlm/nn/transformer.hpp"
#include "vlm/sdk.hpp"

namespace vlm::qwen2_vl {

// Images first, then videos: each grid (t, h, w) of patches in processor order.
struct VisionGrids {
  std::vector<Grid> grids;
  int64_t patches() const;
};
VisionGrids vision_grids(const ModelInputs& inputs);

// Pixels -> hidden states of the last vision block: a Conv3d patch embedding (a matmul, since kernel ==
// stride), 2-D rotary over the patch grid, and pre-norm blocks whose attention stays inside one frame.
class VisionTower final : public VisionEncoder {
 public:
  VisionTower(const Config& config, const WeightLoader& weights, Backend& backend);
  Tensor encode(const ModelInputs& inputs, Trace* trace) override;

 private:
  Config config_;
  Backend* backend_;
  WorkspacePool workspaces_;  // scratch for concurrent calls, reused between them
  Tensor patch_embed_;  // [embed, C*T*P*P]
  std::vector<VitBlock> blocks_;
  std::vector<float> inv_freq_;
};

// LayerNorm, then each 2x2 window of patches (consecutive rows in processor order) concatenated and
// projected by Linear -> GELU -> Linear to the text width.
class PatchMerger final : public Connector {
 public:
  PatchMerger(const Config& config, const WeightLoader& weights, Backend& backend);
  Tensor project(const Tensor& vision_states, const ModelInputs& inputs, Trace* trace) override;

 private:
  Config config_;
  Backend* backend_;
  WorkspacePool workspaces_;  // scratch for concurrent calls, reused between them
  Norm ln_q_;
  Linear fc1_, fc2_;
};

}  // namespace vlm::qwen2_vl
