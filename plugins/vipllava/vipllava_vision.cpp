#include "vipllava_vision.hpp"

namespace vlm::vipllava {

VisionTower::VisionTower(const Config& config, const WeightLoader& weights, Backend& backend)
    : backend_(&backend),
      tower_(ClipVisionTower::load(weights, "vision_tower.vision_model", config.vision)),
      layers_(config.feature_layer_indices()) {}

Tensor VisionTower::encode(const ModelInputs& inputs, Trace* trace) {
  Tensor concat = tower_.hidden_states(*backend_, inputs.at("pixel_values"), layers_, true, trace);
  if (trace && trace->wants("vision_features_concat")) trace->record("vision_features_concat", concat);
  return concat;
}

Projector::Projector(const Config& config, const WeightLoader& weights, Backend& backend)
    : config_(config),
      backend_(&backend),
      workspaces_(backend),
      activation_(activation_from_name(config.projector_hidden_act)) {
  const int64_t in = config.projector_input(), out = config.text.hidden_size;
  norm_ = Norm::layer(weights, "multi_modal_projector.projector_layernorm", in, float(config.projector_layernorm_eps));
  linear_1_ = Linear::load(weights, "multi_modal_projector.linear_1", in, out, true);
  linear_2_ = Linear::load(weights, "multi_modal_projector.linear_2", out, out, true);
}

Tensor Projector::project(const Tensor& states, const ModelInputs&, Trace* trace) {
  const auto lease = workspaces_.acquire();  // this call's scratch: the component stays shareable across threads
  Workspace& ws = *lease;
  const int64_t in = config_.projector_input(), out = config_.text.hidden_size;
  if (states.rank() != 3 || states.dim(2) != in)
    fail("projector: expected [images, patches, {}], got {}", in, states.shape().str());
  const int64_t images = states.dim(0), patches = states.dim(1);
  Tensor normed = ws.get("projector.normed", Shape{images * patches, in});
  norm_.forward(*backend_, states.reshape(normed.shape()), normed);
  Tensor hidden = ws.get("projector.hidden", Shape{images * patches, out});
  linear_1_.forward(*backend_, normed, hidden);
  backend_->activation(activation_, hidden, hidden);
  Tensor features = backend_->empty(Shape{images * patches, out}, DType::F32);
  linear_2_.forward(*backend_, hidden, features);
  if (trace && trace->wants("image_features"))
    trace->record("image_features", features.reshape(Shape{images, patches, out}));
  return features;
}

}  // namespace vlm::vipllava
