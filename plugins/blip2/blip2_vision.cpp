#include "blip2_vision.hpp"

namespace vlm::blip2 {

namespace {

const std::string kVision = "vision_model";

VitBlockNames vision_names() {
  VitBlockNames n;
  n.qkv = "self_attn.qkv";
  n.out = "self_attn.projection";
  return n;
}

EncoderLayerNames qformer_names() {
  EncoderLayerNames n;
  n.q = "attention.attention.query";
  n.k = "attention.attention.key";
  n.v = "attention.attention.value";
  n.cross_q = "crossattention.attention.query";
  n.cross_k = "crossattention.attention.key";
  n.cross_v = "crossattention.attention.value";
  n.fc1 = "intermediate_query.dense";
  n.fc2 = "output_query.dense";
  n.mlp_norm = "output_query.LayerNorm";
  return n;
}

}  // namespace

VisionEncoder::VisionEncoder(const Config& config, const WeightLoader& w, Backend& backend)
    : config_(config.vision), backend_(&backend), workspaces_(backend) {
  const auto& v = config_;
  const int64_t D = v.hidden_size, row = 3 * v.patch_size * v.patch_size;
  const std::string p = kVision + ".embeddings.";
  patch_embedding_.weight = w.load(p + "patch_embedding.weight", Shape{D, 3, v.patch_size, v.patch_size}).reshape(Shape{D, row});
  patch_embedding_.bias = w.load(p + "patch_embedding.bias", Shape{D});
  patch_embedding_.in = row;
  patch_embedding_.out = D;
  class_embedding_ = w.load_f32(p + "class_embedding", Shape{1, 1, D}).reshape(Shape{1, D});
  position_embedding_ = w.load(p + "position_embedding", Shape{1, v.patches() + 1, D}).reshape(Shape{v.patches() + 1, D});
  for (int64_t i = 0; i < v.num_hidden_layers; ++i)
    layers_.push_back(VitBlock::load(w, kVision + ".encoder.layers." + std::to_string(i), v.block(), vision_names()));
  post_layernorm_ = Norm::layer(w, kVision + ".post_layernorm", D, float(v.layer_norm_eps));
}

void VisionEncoder::declare(std::vector<TensorSpec>& specs, const Config& c) {
  const auto& v = c.vision;
  const int64_t D = v.hidden_size;
  const std::string p = kVision + ".embeddings.";
  specs.push_back({p + "class_embedding", Shape{1, 1, D}, false, Init::Gate});
  specs.push_back({p + "patch_embedding.weight", Shape{D, 3, v.patch_size, v.patch_size}});
  specs.push_back({p + "patch_embedding.bias", Shape{D}});
  specs.push_back({p + "position_embedding", Shape{1, v.patches() + 1, D}, false, Init::Bias});
  for (int64_t i = 0; i < v.num_hidden_layers; ++i)
    VitBlock::declare(specs, kVision + ".encoder.layers." + std::to_string(i), v.block(), vision_names());
  add_norm(specs, kVision + ".post_layernorm", D, true);
}

void VisionEncoder::add_ops(std::vector<Op>& ops, const Config& c) {
  vlm::add_ops(ops, {Op::Patchify, Op::Matmul, Op::Add, Op::LayerNorm});
  VitBlock::add_ops(ops, c.vision.block());
}

Tensor VisionEncoder::encode(const ModelInputs& inputs, Trace* trace) {
  const auto& v = config_;
  const Tensor& pixels = inputs.at("pixel_values");
  if (pixels.rank() != 4 || pixels.dim(1) != 3 || pixels.dim(2) != v.image_size || pixels.dim(3) != v.image_size)
    fail("pixel_values: expected [images, 3, {}, {}] (the learned positions fix the size), got {}", v.image_size,
         v.image_size, pixels.shape().str());
  const auto lease = workspaces_.acquire();
  Workspace& ws = *lease;
  Backend& be = *backend_;
  const int64_t B = pixels.dim(0), P = v.patches(), N = P + 1, D = v.hidden_size;
  const Tensor device_pixels = ws.to_device("blip2.pixels", pixels.to(DType::F32));
  Tensor patches = ws.get("blip2.patches", Shape{B, P, patch_embedding_.in});
  be.patchify(device_pixels, int(v.patch_size), patches);
  Tensor embedded = ws.get("blip2.embedded", Shape{B * P, D});
  patch_embedding_.forward(be, patches, embedded);
  Tensor hidden = be.empty(Shape{B, N, D}, DType::F32);
  const Tensor rows = hidden.reshape(Shape{B * N, D});
  for (int64_t b = 0; b < B; ++b) {
    Tensor cls = rows.rows(b * N, 1), body = rows.rows(b * N + 1, P);
    be.copy(class_embedding_, cls);
    be.copy(embedded.rows(b * P, P), body);
  }
  be.add(hidden, position_embedding_, hidden);
  Tensor flat = hidden.reshape(Shape{B * N, D});
  const std::vector<int64_t> segments(static_cast<size_t>(B), N);
  for (const auto& layer : layers_) layer.forward(ws, flat, segments, Tensor(), Tensor());
  post_layernorm_.forward(be, flat, flat);
  if (trace && trace->wants("vision_encoder_output")) trace->record("vision_encoder_output", hidden);
  return hidden;
}

Connector::Connector(const Config& config, const WeightLoader& w, Backend& backend)
    : config_(config), backend_(&backend), workspaces_(backend) {
  const auto& q = config.qformer;
  query_tokens_ = w.load_f32("query_tokens", Shape{1, config.num_query_tokens, q.hidden_size})
                      .reshape(Shape{config.num_query_tokens, q.hidden_size});
  layernorm_ = Norm::layer(w, "qformer.layernorm", q.hidden_size, float(q.layer_norm_eps));
  qformer_ = EncoderStack::load(w, "qformer.encoder.layer", q.stack(), qformer_names());
  projection_ = Linear::load(w, "language_projection", q.hidden_size, config.text_hidden(), true);
}

void Connector::declare(std::vector<TensorSpec>& specs, const Config& c) {
  const auto& q = c.qformer;
  specs.push_back({"query_tokens", Shape{1, c.num_query_tokens, q.hidden_size}, false, Init::Bias});
  add_norm(specs, "qformer.layernorm", q.hidden_size, true);
  EncoderStack::declare(specs, "qformer.encoder.layer", q.stack(), qformer_names());
  add_linear(specs, "language_projection", q.hidden_size, c.text_hidden(), true);
}

void Connector::add_ops(std::vector<Op>& ops, const Config& c) {
  vlm::add_ops(ops, {Op::LayerNorm, Op::Matmul});
  EncoderStack::add_ops(ops, c.qformer.stack());
}

Tensor Connector::project(const Tensor& vision_states, const ModelInputs&, Trace* trace) {
  const int64_t Q = config_.num_query_tokens, H = config_.qformer.hidden_size, Dv = config_.vision.hidden_size;
  if (vision_states.rank() != 3 || vision_states.dim(2) != Dv)
    fail("blip-2 Q-Former: vision states must be [images, tokens, {}], got {}", Dv, vision_states.shape().str());
  const int64_t B = vision_states.dim(0), N = vision_states.dim(1);
  const auto lease = workspaces_.acquire();
  Workspace& ws = *lease;
  Backend& be = *backend_;
  // Every image starts from the same normalised query tokens.
  Tensor queries = ws.get("blip2.queries", Shape{Q, H});
  layernorm_.forward(be, query_tokens_, queries);
  Tensor x = be.empty(Shape{B, Q, H}, DType::F32);
  const Tensor rows = x.reshape(Shape{B * Q, H});
  for (int64_t b = 0; b < B; ++b) {
    Tensor dst = rows.rows(b * Q, Q);
    be.copy(queries, dst);
  }
  const std::vector<int64_t> segments(static_cast<size_t>(B), Q), cross_segments(static_cast<size_t>(B), N);
  Tensor flat = x.reshape(Shape{B * Q, H});
  const Tensor states = vision_states.reshape(Shape{B * N, Dv});
  qformer_.forward(ws, flat, segments, &states, cross_segments);
  if (trace && trace->wants("qformer_output")) trace->record("qformer_output", x);
  Tensor features = be.empty(Shape{B * Q, config_.text_hidden()}, DType::F32);
  projection_.forward(be, flat, features);
  if (trace && trace->wants("image_features"))
    trace->record("image_features", features.reshape(Shape{B, Q, config_.text_hidden()}));
  return features;
}

}  // namespace vlm::blip2
