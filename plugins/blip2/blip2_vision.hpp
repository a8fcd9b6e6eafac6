#pragma once
// BLIP-2's vision side.
//  * VisionEncoder: the BLIP-2 ViT: patch embedding (a matmul, with bias), class token, learned positions,
//    pre-norm VitBlocks with one fused qkv projection and its stored bias, GELU MLP, post-LayerNorm:
//    [images, 1 + patches, vision width]. Traces vision_encoder_output.
//  * Connector: the Q-Former (learned query tokens through LayerNorm, then the shared post-norm encoder
//    stack: self-attention over the queries, cross-attention to the image states every
//    cross_attention_frequency layers, the query feed-forward), then the language projection:
//    [images * queries, text width], in image order. Traces qformer_output and image_features.
#include <vector>

#include "blip2_config.hpp"
#include "vlm/sdk.hpp"

namespace vlm::blip2 {

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
  Tensor class_embedding_, position_embedding_;
  std::vector<VitBlock> layers_;
  Norm post_layernorm_;
};

class Connector final : public vlm::Connector {
 public:
  Connector(const Config& config, const WeightLoader& weights, Backend& backend);
  Tensor project(const Tensor& vision_states, const ModelInputs& inputs, Trace* trace) override;
  static void declare(std::vector<TensorSpec>& specs, const Config& config);
  static void add_ops(std::vector<Op>& ops, const Config& config);

 private:
  Config config_;
  Backend* backend_;
  WorkspacePool workspaces_;
  Tensor query_tokens_;
  Norm layernorm_;
  EncoderStack qformer_;
  Linear projection_;
};

}  // namespace vlm::blip2
