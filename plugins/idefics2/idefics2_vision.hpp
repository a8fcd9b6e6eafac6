#pragma once
// Idefics2's vision side.
//  * PatchLayout: which images of a padded batch are real (any pixel not exactly 0, as HF tests) and, per
//    real image, which 14x14 patches are real (every pixel inside the image): what both the encoder and
//    the perceiver mask by.
//  * VisionEncoder: patch embedding as a matmul, NaViT position ids (fractional buckets over each image's
//    real patch grid), the shared VitBlocks attending to real patches only, post-LayerNorm:
//    [real images, patches, vision width]. Traces patch_attention_mask and vision_encoder_output.
//  * Connector: the modality projection (gated MLP to the text width), then the perceiver resampler:
//    latents cross-attend to [their image's real patch features ; themselves] in every layer:
//    [real images * latents, text width], in image order (the <image> slots' order). Traces
//    modality_projection_output and image_features.
#include <vector>

#include "idefics2_config.hpp"
#include "vlm/sdk.hpp"

namespace vlm::idefics2 {

struct PatchLayout {
  std::vector<int64_t> images;  // indices (into batch * images) of the real images, in order
  int64_t grid_h = 0, grid_w = 0;
  std::vector<uint8_t> patches;  // [real images, grid_h * grid_w]: 1 = real patch
  int64_t height = 0, width = 0;  // the padded pixel size
  static PatchLayout of(const ModelInputs& inputs, int64_t patch_size);
  int64_t count() const { return int64_t(images.size()); }
  int64_t per_image() const { return grid_h * grid_w; }
  bool all_real() const;
};

// HF's position ids of one image's patches (fractional coordinates bucketed into the table's grid, float32
// as torch computes them), real patches in row-major order; masked patches keep 0.
std::vector<int64_t> navit_position_ids(std::span<const uint8_t> patches, int64_t grid_h, int64_t grid_w,
                                        int64_t patches_per_side);

class VisionEncoder final : public vlm::VisionEncoder {
 public:
  VisionEncoder(const Config& config, const WeightLoader& weights, Backend& backend);
  Tensor encode(const ModelInputs& inputs, Trace* trace) override;
  static void declare(std::vector<TensorSpec>& specs, const Config& config);
  static void add_ops(std::vector<Op>& ops, const Config& config);

 private:
  VisionConfig config_;
  Backend* backend_;
  WorkspacePool workspaces_;
  Linear patch_embedding_;
  Tensor position_embedding_;
  std::vector<VitBlock> layers_;
  Norm post_layernorm_;
};

class Connector final : public vlm::Connector {
 public:
  Connector(const Config& config, const WeightLoader& weights, Backend& backend);
  Tensor project(const Tensor& vision_states, const ModelInputs& inputs, Trace* trace) override;
  static void declare(std::vector<TensorSpec>& specs, const Config& config);
  static void add_ops(std::vector<Op>& ops);

 private:
  struct Layer {
    Norm latents_norm, context_norm, post_norm;
    Linear q, k, v, o, gate, up, down;
  };
  Config config_;
  Backend* backend_;
  WorkspacePool workspaces_;
  Linear projection_gate_, projection_up_, projection_down_;
  Tensor latents_;
  std::vector<Layer> layers_;
  Norm norm_;
};

}  // namespace vlm::idefics2
