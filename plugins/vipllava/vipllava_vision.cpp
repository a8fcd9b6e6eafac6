#include "vipllava_vision.hpp"

#include <algorithm>

namespace vlm::vipllava {

namespace {

const std::string kVisionModel = "vision_tower.vision_model";

// Small embedding tables are added to f32 activations: keep them f32 whatever the stored dtype.
Tensor load_f32(const WeightLoader& weights, const std::string& name, const Shape& shape) {
  return weights.backend().upload(weights.checkpoint().tensor(name, shape).to(DType::F32));
}

}  // namespace

VisionTower::VisionTower(const Config& config, const WeightLoader& weights, Backend& backend)
    : config_(config), backend_(&backend) {
  const auto& v = config.vision;
  // The Conv2d kernel equals its stride, so the convolution is a matmul with the flattened kernel.
  patch_embedding_ = weights.load(kVisionModel + ".embeddings.patch_embedding.weight",
                                  Shape{v.hidden_size, v.num_channels, v.patch_size, v.patch_size})
                         .reshape(Shape{v.hidden_size, v.patch_row()});
  class_embedding_ = load_f32(weights, kVisionModel + ".embeddings.class_embedding", Shape{v.hidden_size})
                         .reshape(Shape{1, v.hidden_size});
  position_embedding_ = load_f32(weights, kVisionModel + ".embeddings.position_embedding.weight",
                                 Shape{v.num_patches() + 1, v.hidden_size});
  pre_layernorm_ = Norm::layer(weights, kVisionModel + ".pre_layrnorm", v.hidden_size, float(v.layer_norm_eps));
  VitBlockConfig block;
  block.dim = v.hidden_size;
  block.heads = v.num_attention_heads;
  block.mlp_hidden = v.intermediate_size;
  block.activation = activation_from_name(v.hidden_act);
  block.norm_eps = float(v.layer_norm_eps);
  for (int64_t i = 0; i < v.num_hidden_layers; ++i)
    layers_.push_back(VitBlock::load(weights, kVisionModel + ".encoder.layers." + std::to_string(i), block));
}

Tensor VisionTower::embed(Workspace& ws, const Tensor& pixels) {
  const auto& v = config_.vision;
  const int64_t B = pixels.dim(0), N = v.num_patches(), D = v.hidden_size;
  Tensor patches = ws.get("vision.patches", Shape{B, N, v.patch_row()});
  backend_->patchify(pixels, int(v.patch_size), patches);
  Tensor patch_embeds = ws.get("vision.patch_embeds", Shape{B * N, D});
  backend_->matmul(patches, patch_embedding_, nullptr, patch_embeds, true);
  // Each image's sequence is [CLS, patch 0, ..., patch N-1].
  Tensor x = ws.get("vision.embeddings", Shape{B, N + 1, D});
  const Tensor rows = x.reshape(Shape{B * (N + 1), D});
  for (int64_t b = 0; b < B; ++b) {
    Tensor cls = rows.rows(b * (N + 1), 1), body = rows.rows(b * (N + 1) + 1, N);
    backend_->copy(class_embedding_, cls);
    backend_->copy(patch_embeds.rows(b * N, N), body);
  }
  backend_->add(x, position_embedding_, x);
  return x;
}

Tensor VisionTower::encode(const ModelInputs& inputs, Trace* trace) {
  Workspace ws(*backend_);  // per call: the component stays shareable across threads
  const auto& v = config_.vision;
  const Tensor& host_pixels = inputs.at("pixel_values");
  if (host_pixels.rank() != 4 || host_pixels.dim(1) != v.num_channels || host_pixels.dim(2) != v.image_size ||
      host_pixels.dim(3) != v.image_size)
    fail("pixel_values: expected [images, {}, {}, {}] (the tower's learned positions fix the size), got {}",
         v.num_channels, v.image_size, v.image_size, host_pixels.shape().str());
  const int64_t B = host_pixels.dim(0), N = v.num_patches(), D = v.hidden_size, tokens = N + 1;
  Tensor pixels = ws.get("vision.pixels", host_pixels.shape());
  backend_->copy(host_pixels.to(DType::F32), pixels);

  const Tensor embeddings = embed(ws, pixels);
  Tensor hidden = backend_->empty(Shape{B, tokens, D}, DType::F32);
  pre_layernorm_.forward(*backend_, embeddings, hidden);

  const std::vector<int64_t> selected = config_.feature_layer_indices();
  const bool trace_all = trace && trace->wants("vision_hidden_states");
  // Layers past the deepest selected hidden state cannot change the features.
  const int64_t depth = trace_all ? v.num_hidden_layers : *std::max_element(selected.begin(), selected.end());
  Tensor all_states;
  if (trace_all) all_states = backend_->empty(Shape{v.num_hidden_layers + 1, B * tokens, D}, DType::F32);

  std::vector<Tensor> features(selected.size());  // per selected layer: [B, N, D], CLS dropped
  const std::vector<int64_t> segments(size_t(B), tokens);  // attention stays within one image
  Tensor flat = hidden.reshape(Shape{B * tokens, D});
  for (int64_t state = 0; state <= depth; ++state) {
    if (state > 0) layers_[size_t(state - 1)].forward(ws, flat, segments, Tensor(), Tensor());
    if (trace_all) {
      Tensor slot = all_states.rows(state, 1);
      backend_->copy(flat.reshape(slot.shape()), slot);
    }
    for (size_t k = 0; k < selected.size(); ++k)
      if (selected[k] == state) {
        features[k] = backend_->empty(Shape{B, N, D}, DType::F32);
        backend_->slice(hidden, 1, 1, features[k]);
      }
  }
  if (trace_all)
    trace->record("vision_hidden_states", all_states.reshape(Shape{v.num_hidden_layers + 1, B, tokens, D}));

  std::vector<const Tensor*> parts;
  for (const auto& f : features) parts.push_back(&f);
  Tensor concat = backend_->empty(Shape{B, N, config_.projector_input()}, DType::F32);
  backend_->concat(parts, 2, concat);
  if (trace && trace->wants("vision_features_concat")) trace->record("vision_features_concat", concat);
  return concat;
}

Projector::Projector(const Config& config, const WeightLoader& weights, Backend& backend)
    : config_(config),
      backend_(&backend),
      activation_(activation_from_name(config.projector_hidden_act)) {
  const int64_t in = config.projector_input(), out = config.text.hidden_size;
  norm_ = Norm::layer(weights, "multi_modal_projector.projector_layernorm", in, float(config.projector_layernorm_eps));
  linear_1_ = Linear::load(weights, "multi_modal_projector.linear_1", in, out, true);
  linear_2_ = Linear::load(weights, "multi_modal_projector.linear_2", out, out, true);
}

Tensor Projector::project(const Tensor& states, const ModelInputs&, Trace* trace) {
  Workspace ws(*backend_);  // per call: the component stays shareable across threads
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
