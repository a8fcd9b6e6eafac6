#pragma once
// Mllama's vision side.
//  * VisionEncoder: per image (padding images included, as Hugging Face runs them), each tile's patches
//    embedded by a matmul, tanh-gated pre-tile embeddings of the image's aspect ratio, a class token, gated
//    position and tile embeddings, LayerNorm, each tile padded to a multiple of 8 tokens; the local
//    transformer over all tiles of the image (keeping the inputs of intermediate_layers_indices), LayerNorm,
//    gated post-tile embeddings, the gated global transformer; both under Hugging Face's aspect-ratio mask
//    (only padding-to-padding pairs are masked). Output [B, images, tiles, patches, D * (1 + K)]: the global
//    output, then the intermediate states interleaved (feature d of layer k at d * K + k). Traces
//    vision_encoder_output.
//  * Connector: the multi-modal projector (Linear with bias) -> [B * images * tiles * patches, text hidden],
//    each row's cross_attention_states. Traces cross_attention_states.
#include <vector>

#include "mllama_config.hpp"
#include "vlm/sdk.hpp"

namespace vlm::mllama {

class VisionEncoder final : public vlm::VisionEncoder {
 public:
  VisionEncoder(const Config& config, const WeightLoader& weights, Backend& backend);
  Tensor encode(const ModelInputs& inputs, Trace* trace) override;
  static void declare(std::vector<TensorSpec>& specs, const Config& config);
  static void add_ops(std::vector<Op>& ops, const Config& config);

 private:
  // x [images * tiles, rows, D] += tanh(gate) * table[aspect ratio id of each image] (one row per tile).
  void add_tile_embedding(Workspace& ws, const Tensor& table, float gate, const Tensor& ids, Tensor& x,
                          int64_t rows) const;
  VisionConfig config_;
  Backend* backend_;
  WorkspacePool workspaces_;
  Tensor patch_embedding_, class_embedding_;
  Tensor position_embedding_;  // (1 - tanh(gate)) * embedding, [patches, D]
  Tensor tile_position_embedding_;  // [ratios + 1, tiles * patches * D]
  float position_gate_ = 0;
  Tensor pre_tile_, post_tile_;  // [ratios + 1, tiles * D]
  float pre_tile_gate_ = 0, post_tile_gate_ = 0;
  Norm layernorm_pre_, layernorm_post_;
  std::vector<VitBlock> local_, global_;
};

class Connector final : public vlm::Connector {
 public:
  Connector(const Config& config, const WeightLoader& weights, Backend& backend);
  Tensor project(const Tensor& vision_states, const ModelInputs& inputs, Trace* trace) override;

 private:
  Config config_;
  Backend* backend_;
  Linear projector_;
};

VitBlockNames vision_layer_names();

}  // namespace vlm::mllama
