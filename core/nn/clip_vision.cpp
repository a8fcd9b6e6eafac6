#include "vlm/nn/clip_vision.hpp"

#include <algorithm>

#include "vlm/util/error.hpp"

namespace vlm {

namespace {

VitBlockConfig block_config(const ClipVisionConfig& v, const ClipVisionNames& names) {
  VitBlockConfig block;
  block.fused_qkv = names.fused_qkv;
  block.dim = v.hidden_size;
  block.heads = v.num_attention_heads;
  block.mlp_hidden = v.intermediate_size;
  block.activation = activation_from_name(v.hidden_act);
  block.norm_eps = float(v.layer_norm_eps);
  return block;
}

}  // namespace

ClipVisionConfig ClipVisionConfig::from(const ConfigView& v, const ClipVisionConfig& defaults) {
  ClipVisionConfig c = defaults;
  c.hidden_size = v.get_or("hidden_size", c.hidden_size);
  c.intermediate_size = v.get_or("intermediate_size", c.intermediate_size);
  c.num_hidden_layers = v.get_or("num_hidden_layers", c.num_hidden_layers);
  c.num_attention_heads = v.get_or("num_attention_heads", c.num_attention_heads);
  c.num_channels = v.get_or("num_channels", c.num_channels);
  c.image_size = v.get_or("image_size", c.image_size);
  c.patch_size = v.get_or("patch_size", c.patch_size);
  c.hidden_act = v.get_or<std::string>("hidden_act", c.hidden_act);
  c.layer_norm_eps = v.get_or("layer_norm_eps", c.layer_norm_eps);
  for (const auto& [key, value] : {std::pair{"hidden_size", c.hidden_size}, {"intermediate_size", c.intermediate_size},
                                   {"num_hidden_layers", c.num_hidden_layers},
                                   {"num_attention_heads", c.num_attention_heads}, {"num_channels", c.num_channels},
                                   {"image_size", c.image_size}, {"patch_size", c.patch_size}})
    require_positive(v, key, value);
  if (c.hidden_size % c.num_attention_heads)
    fail("{}: {} is not divisible by num_attention_heads {}", v.where("hidden_size"), c.hidden_size,
         c.num_attention_heads);
  if (c.image_size % c.patch_size)
    fail("{}: {} is not a multiple of patch_size {}", v.where("image_size"), c.image_size, c.patch_size);
  activation_from_name(c.hidden_act);  // an unknown activation fails at load, naming it
  return c;
}

int64_t ClipVisionConfig::resolve_layer(int64_t index, const std::string& where) const {
  // hidden_states holds num_hidden_layers + 1 entries; Python indexing wraps negatives once.
  const int64_t states = num_hidden_layers + 1;
  if (index < -states || index >= states)
    fail("{}: layer {} is outside the {} hidden states of the vision tower", where, index, states);
  return index < 0 ? index + states : index;
}

ClipVisionTower ClipVisionTower::load(const WeightLoader& weights, const std::string& prefix, const ClipVisionConfig& v,
                                      const ClipVisionNames& names) {
  ClipVisionTower t;
  t.config_ = v;
  t.workspaces_ = std::make_shared<WorkspacePool>(weights.backend());
  // The Conv2d kernel equals its stride, so the convolution is a matmul with the flattened kernel.
  t.patch_embedding_ = weights.load(prefix + "." + names.embeddings + ".patch_embedding.weight",
                                    Shape{v.hidden_size, v.num_channels, v.patch_size, v.patch_size})
                           .reshape(Shape{v.hidden_size, v.patch_row()});
  t.class_embedding_ = weights.load_f32(prefix + "." + names.embeddings + ".class_embedding", Shape{v.hidden_size})
                           .reshape(Shape{1, v.hidden_size});
  t.position_embedding_ = weights.load_f32(prefix + "." + names.embeddings + ".position_embedding.weight",
                                   Shape{v.num_patches() + 1, v.hidden_size});
  t.pre_layernorm_ = Norm::layer(weights, prefix + "." + names.pre_norm, v.hidden_size, float(v.layer_norm_eps));
  t.post_layernorm_ = Norm::layer(weights, prefix + "." + names.post_norm, v.hidden_size, float(v.layer_norm_eps));
  const VitBlockConfig block = block_config(v, names);
  for (int64_t i = 0; i < v.num_hidden_layers; ++i)
    t.layers_.push_back(VitBlock::load(weights, prefix + "." + names.layers + "." + std::to_string(i), block, names.block));
  return t;
}

void ClipVisionTower::declare(std::vector<TensorSpec>& specs, const std::string& prefix, const ClipVisionConfig& v,
                              const ClipVisionNames& names) {
  specs.push_back({prefix + "." + names.embeddings + ".class_embedding", Shape{v.hidden_size}, false, Init::Gate});
  specs.push_back({prefix + "." + names.embeddings + ".patch_embedding.weight",  // Conv2d without bias
                   Shape{v.hidden_size, v.num_channels, v.patch_size, v.patch_size}});
  specs.push_back({prefix + "." + names.embeddings + ".position_embedding.weight", Shape{v.num_patches() + 1, v.hidden_size}});
  add_norm(specs, prefix + "." + names.pre_norm, v.hidden_size, true);
  const VitBlockConfig block = block_config(v, names);
  for (int64_t i = 0; i < v.num_hidden_layers; ++i)
    VitBlock::declare(specs, prefix + "." + names.layers + "." + std::to_string(i), block, names.block);
  add_norm(specs, prefix + "." + names.post_norm, v.hidden_size, true);
}

void ClipVisionTower::add_ops(std::vector<Op>& ops, const ClipVisionConfig& v, const ClipVisionNames& names) {
  vlm::add_ops(ops, {Op::Patchify, Op::Matmul, Op::Add, Op::LayerNorm, Op::Slice, Op::Concat});
  VitBlock::add_ops(ops, block_config(v, names));
}

std::vector<Tensor> ClipVisionTower::layer_states(Backend& backend, const Tensor& host_pixels,
                                                  std::span<const int64_t> layers, bool drop_class_token,
                                                  Trace* trace) const {
  const auto& v = config_;
  if (host_pixels.rank() != 4 || host_pixels.dim(1) != v.num_channels || host_pixels.dim(2) != v.image_size ||
      host_pixels.dim(3) != v.image_size)
    fail("pixel_values: expected [images, {}, {}, {}] (the tower's learned positions fix the size), got {}",
         v.num_channels, v.image_size, v.image_size, host_pixels.shape().str());
  if (layers.empty()) fail("the CLIP tower was asked for no hidden state");
  const auto lease = workspaces_->acquire();  // this call's scratch: the tower stays shareable across threads
  Workspace& ws = *lease;
  const int64_t B = host_pixels.dim(0), N = v.num_patches(), D = v.hidden_size, tokens = N + 1;
  Tensor pixels = ws.get("clip.pixels", host_pixels.shape());
  backend.copy(host_pixels.to(DType::F32), pixels);

  // Embeddings: each image's sequence is [CLS, patch 0, ..., patch N-1], plus learned positions.
  Tensor patches = ws.get("clip.patches", Shape{B, N, v.patch_row()});
  backend.patchify(pixels, int(v.patch_size), patches);
  Tensor patch_embeds = ws.get("clip.patch_embeds", Shape{B * N, D});
  backend.matmul(patches, patch_embedding_, nullptr, patch_embeds, true);
  Tensor embeddings = ws.get("clip.embeddings", Shape{B, tokens, D});
  const Tensor rows = embeddings.reshape(Shape{B * tokens, D});
  for (int64_t b = 0; b < B; ++b) {
    Tensor cls = rows.rows(b * tokens, 1), body = rows.rows(b * tokens + 1, N);
    backend.copy(class_embedding_, cls);
    backend.copy(patch_embeds.rows(b * N, N), body);
  }
  backend.add(embeddings, position_embedding_, embeddings);
  Tensor hidden = backend.empty(Shape{B, tokens, D}, DType::F32);
  pre_layernorm_.forward(backend, embeddings, hidden);

  const bool trace_all = trace && trace->wants("vision_hidden_states");
  // Layers past the deepest selected hidden state cannot change the features.
  const int64_t depth = trace_all ? v.num_hidden_layers : *std::max_element(layers.begin(), layers.end());
  Tensor all_states;
  if (trace_all) all_states = backend.empty(Shape{v.num_hidden_layers + 1, B * tokens, D}, DType::F32);

  const int64_t kept = drop_class_token ? N : tokens;
  std::vector<Tensor> features(layers.size());  // per selected layer: [B, kept, D]
  const std::vector<int64_t> segments(size_t(B), tokens);  // attention stays within one image
  Tensor flat = hidden.reshape(Shape{B * tokens, D});
  for (int64_t state = 0; state <= depth; ++state) {
    if (state > 0) layers_[size_t(state - 1)].forward(ws, flat, segments, Tensor(), Tensor());
    if (trace_all) {
      Tensor slot = all_states.rows(state, 1);
      backend.copy(flat.reshape(slot.shape()), slot);
    }
    for (size_t k = 0; k < layers.size(); ++k)
      if (layers[k] == state) {
        features[k] = backend.empty(Shape{B, kept, D}, DType::F32);
        if (drop_class_token)
          backend.slice(hidden, 1, 1, features[k]);
        else
          backend.copy(hidden, features[k]);
      }
  }
  if (trace_all)
    trace->record("vision_hidden_states", all_states.reshape(Shape{v.num_hidden_layers + 1, B, tokens, D}));
  return features;
}

Tensor ClipVisionTower::hidden_states(Backend& backend, const Tensor& host_pixels, std::span<const int64_t> layers,
                                      bool drop_class_token, Trace* trace) const {
  const std::vector<Tensor> features = layer_states(backend, host_pixels, layers, drop_class_token, trace);
  if (features.size() == 1) return features.front();
  std::vector<const Tensor*> parts;
  for (const auto& f : features) parts.push_back(&f);
  const Tensor& one = features.front();
  Tensor concat = backend.empty(Shape{one.dim(0), one.dim(1), int64_t(features.size()) * one.dim(2)}, DType::F32);
  backend.concat(parts, 2, concat);
  return concat;
}

}  // namespace vlm
