#include "mllama_vision.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace vlm::mllama {

namespace {

const std::string kVision = "vision_model";

float tanh_of(const WeightLoader& w, const std::string& name) {
  return std::tanh(w.scalar(name));
}

int64_t ratio_rows(const VisionConfig& v) { return int64_t(v.supported_aspect_ratios.size()) + 1; }

}  // namespace

VitBlockNames vision_layer_names() {
  VitBlockNames n;
  n.norm1 = "input_layernorm";
  n.norm2 = "post_attention_layernorm";
  n.out = "self_attn.o_proj";
  return n;
}

VisionEncoder::VisionEncoder(const Config& config, const WeightLoader& w, Backend& backend)
    : config_(config.vision), backend_(&backend), workspaces_(backend) {
  const auto& v = config_;
  const int64_t D = v.hidden_size, P = v.patches(), T = v.max_num_tiles, R = ratio_rows(v);
  const std::string p = kVision + ".";
  patch_embedding_ = w.load(p + "patch_embedding.weight", Shape{D, v.num_channels, v.patch_size, v.patch_size})
                         .reshape(Shape{D, v.patch_row()});
  class_embedding_ = w.load_f32(p + "class_embedding", Shape{D}).reshape(Shape{1, D});
  position_gate_ = tanh_of(w, p + "gated_positional_embedding.gate");
  Tensor positions = w.checkpoint().tensor(p + "gated_positional_embedding.embedding", Shape{P, D}).to(DType::F32).clone();
  for (int64_t i = 0; i < positions.numel(); ++i) positions.data<float>()[i] *= 1.0f - position_gate_;
  position_embedding_ = backend.upload(positions);
  tile_position_embedding_ = w.load(p + "gated_positional_embedding.tile_embedding.weight", Shape{R, T * P * D});
  pre_tile_ = w.load(p + "pre_tile_positional_embedding.embedding.weight", Shape{R, T * D});
  pre_tile_gate_ = tanh_of(w, p + "pre_tile_positional_embedding.gate");
  post_tile_ = w.load(p + "post_tile_positional_embedding.embedding.weight", Shape{R, T * D});
  post_tile_gate_ = tanh_of(w, p + "post_tile_positional_embedding.gate");
  // nn.LayerNorm's default epsilon, not norm_eps (Hugging Face builds these two without it).
  layernorm_pre_ = Norm::layer(w, p + "layernorm_pre", D, 1e-5f);
  layernorm_post_ = Norm::layer(w, p + "layernorm_post", D, 1e-5f);
  for (int64_t i = 0; i < v.num_hidden_layers; ++i)
    local_.push_back(VitBlock::load(w, p + "transformer.layers." + std::to_string(i), v.block(false), vision_layer_names()));
  for (int64_t i = 0; i < v.num_global_layers; ++i)
    global_.push_back(
        VitBlock::load(w, p + "global_transformer.layers." + std::to_string(i), v.block(true), vision_layer_names()));
}

void VisionEncoder::declare(std::vector<TensorSpec>& specs, const Config& c) {
  const auto& v = c.vision;
  const int64_t D = v.hidden_size, P = v.patches(), T = v.max_num_tiles, R = ratio_rows(v);
  const std::string p = kVision + ".";
  specs.push_back({p + "patch_embedding.weight", Shape{D, v.num_channels, v.patch_size, v.patch_size}});
  specs.push_back({p + "class_embedding", Shape{D}, false, Init::Gate});
  specs.push_back({p + "gated_positional_embedding.embedding", Shape{P, D}});
  specs.push_back({p + "gated_positional_embedding.gate", Shape{1}, false, Init::Gate});
  specs.push_back({p + "gated_positional_embedding.tile_embedding.weight", Shape{R, T * P * D}, false, Init::Bias});
  for (const char* tile : {"pre_tile_positional_embedding", "post_tile_positional_embedding"}) {
    specs.push_back({p + tile + ".embedding.weight", Shape{R, T * D}, false, Init::Bias});
    specs.push_back({p + tile + ".gate", Shape{1}, false, Init::Gate});
  }
  add_norm(specs, p + "layernorm_pre", D, true);
  add_norm(specs, p + "layernorm_post", D, true);
  for (int64_t i = 0; i < v.num_hidden_layers; ++i)
    VitBlock::declare(specs, p + "transformer.layers." + std::to_string(i), v.block(false), vision_layer_names());
  for (int64_t i = 0; i < v.num_global_layers; ++i)
    VitBlock::declare(specs, p + "global_transformer.layers." + std::to_string(i), v.block(true), vision_layer_names());
}

void VisionEncoder::add_ops(std::vector<Op>& ops, const Config& c) {
  vlm::add_ops(ops, {Op::Patchify, Op::Matmul, Op::Embedding, Op::Scale, Op::Add, Op::LayerNorm, Op::Concat,
                     Op::Permute});
  VitBlock::add_ops(ops, c.vision.block(true));
}

void VisionEncoder::add_tile_embedding(Workspace& ws, const Tensor& table, float gate, const Tensor& ids, Tensor& x,
                                       int64_t rows) const {
  Backend& be = *backend_;
  const int64_t images = ids.numel(), T = config_.max_num_tiles, D = config_.hidden_size;
  Tensor looked = ws.get("mllama.tile_rows", Shape{images, T * D});
  be.embedding(ids, table, looked);
  be.scale(looked, gate, looked);
  const Tensor per_tile = looked.reshape(Shape{images * T, D});
  const Tensor blocks = x.reshape(Shape{images * T, rows, D});
  for (int64_t i = 0; i < images * T; ++i) {
    Tensor block = blocks.rows(i, 1).reshape(Shape{rows, D});
    be.add(block, per_tile.rows(i, 1), block);
  }
}

Tensor VisionEncoder::encode(const ModelInputs& inputs, Trace* trace) {
  const auto& v = config_;
  const Tensor& pixels = inputs.at("pixel_values");
  const int64_t T = v.max_num_tiles, t = v.image_size;
  if (pixels.rank() != 6 || pixels.dim(2) != T || pixels.dim(3) != 3 || pixels.dim(4) != t || pixels.dim(5) != t)
    fail("pixel_values: expected [batch, images, {}, 3, {}, {}], got {}", T, t, t, pixels.shape().str());
  const int64_t B = pixels.dim(0), M = pixels.dim(1), BM = B * M;
  const Tensor ar_ids = inputs.at("aspect_ratio_ids").to(DType::I64);
  const Tensor ar_mask = inputs.at("aspect_ratio_mask").to(DType::I64);
  if (!(ar_ids.shape() == Shape{B, M}) || !(ar_mask.shape() == Shape{B, M, T}))
    fail("aspect_ratio_ids {} / aspect_ratio_mask {} do not match pixel_values {}", ar_ids.shape().str(),
         ar_mask.shape().str(), pixels.shape().str());
  for (int64_t i = 0; i < BM; ++i)
    if (ar_ids.data<int64_t>()[i] < 0 || ar_ids.data<int64_t>()[i] >= ratio_rows(v))
      fail("aspect_ratio_ids: {} is outside the {} supported aspect ratios", ar_ids.data<int64_t>()[i], ratio_rows(v) - 1);

  const auto lease = workspaces_.acquire();
  Workspace& ws = *lease;
  Backend& be = *backend_;
  const int64_t D = v.hidden_size, G = v.grid() * v.grid(), P = v.patches(), L = v.padded_patches(), TL = T * L;
  const int64_t K = int64_t(v.intermediate_layers_indices.size());

  // Patches of every tile, embedded, plus the pre-tile embedding of the image's aspect ratio.
  const Tensor device_pixels = ws.to_device("mllama.pixels", pixels.to(DType::F32).reshape(Shape{BM * T, 3, t, t}));
  Tensor patches = ws.get("mllama.patches", Shape{BM * T, G, v.patch_row()});
  be.patchify(device_pixels, int(v.patch_size), patches);
  Tensor embedded = ws.get("mllama.embedded", Shape{BM * T, G, D});
  be.matmul(patches, patch_embedding_, nullptr, embedded, true);
  const Tensor ids = ws.to_device("mllama.ar_ids", ar_ids.reshape(Shape{BM}));
  add_tile_embedding(ws, pre_tile_, pre_tile_gate_, ids, embedded, G);

  // [class, patches] per tile, then position and tile embeddings.
  Tensor tokens = ws.get("mllama.tokens", Shape{BM * T, P, D});
  for (int64_t i = 0; i < BM * T; ++i) {
    Tensor block = tokens.rows(i, 1).reshape(Shape{P, D});
    Tensor cls = block.rows(0, 1), body = block.rows(1, G);
    be.copy(class_embedding_, cls);
    be.copy(embedded.rows(i, 1).reshape(Shape{G, D}), body);
  }
  be.add(tokens, position_embedding_, tokens);
  Tensor tile_positions = ws.get("mllama.tile_positions", Shape{BM, T * P * D});
  be.embedding(ids, tile_position_embedding_, tile_positions);
  be.scale(tile_positions, position_gate_, tile_positions);
  Tensor as_images = tokens.reshape(Shape{BM, T * P * D});
  be.add(as_images, tile_positions, as_images);
  layernorm_pre_.forward(be, tokens, tokens);

  // Each tile padded to L tokens with zeros; one sequence of T * L tokens per image.
  Tensor hidden = be.zeros(Shape{BM * T, L, D}, DType::F32);
  for (int64_t i = 0; i < BM * T; ++i) {
    Tensor dst = hidden.rows(i, 1).reshape(Shape{L, D}).rows(0, P);
    be.copy(tokens.rows(i, 1).reshape(Shape{P, D}), dst);
  }
  // Hugging Face's _prepare_aspect_ratio_attention_mask: a token is invalid when its tile is padding or it
  // is a padding token; only invalid-to-invalid pairs are masked (valid tokens see everything).
  std::vector<float> mask(size_t(BM * TL * TL), 0.0f);
  std::vector<uint8_t> invalid(static_cast<size_t>(TL));
  constexpr float kMin = std::numeric_limits<float>::lowest();
  for (int64_t b = 0; b < BM; ++b) {
    for (int64_t n = 0; n < TL; ++n) invalid[size_t(n)] = !(ar_mask.data<int64_t>()[b * T + n / L] && n % L < P);
    float* m = mask.data() + b * TL * TL;
    for (int64_t i = 0; i < TL; ++i)
      if (invalid[size_t(i)])
        for (int64_t j = 0; j < TL; ++j)
          if (invalid[size_t(j)]) m[i * TL + j] = kMin;
  }
  const Tensor device_mask =
      ws.to_device("mllama.mask", Tensor::borrow(mask.data(), Shape{BM, TL, TL}, DType::F32, Device::cpu(), nullptr));
  const SegmentMasks masks{nullptr, &device_mask};
  const std::vector<int64_t> segments(size_t(BM), TL);
  Tensor flat = hidden.reshape(Shape{BM * TL, D});

  std::vector<Tensor> kept(static_cast<size_t>(K));  // inputs of the intermediate layers
  for (int64_t i = 0; i < v.num_hidden_layers; ++i) {
    for (int64_t k = 0; k < K; ++k)
      if (v.intermediate_layers_indices[size_t(k)] == i) {
        kept[size_t(k)] = be.empty(Shape{1, BM * TL, D}, DType::F32);
        Tensor dst = kept[size_t(k)].reshape(Shape{BM * TL, D});
        be.copy(flat, dst);
      }
    local_[size_t(i)].forward(ws, flat, segments, Tensor(), Tensor(), masks);
  }
  layernorm_post_.forward(be, flat, flat);
  add_tile_embedding(ws, post_tile_, post_tile_gate_, ids, hidden, L);
  for (const auto& layer : global_) layer.forward(ws, flat, segments, Tensor(), Tensor(), masks);

  // [global output | intermediates interleaved d * K + k], padding tokens dropped.
  Tensor joined = ws.get("mllama.joined", Shape{BM * TL, D * (1 + K)});
  if (K > 0) {
    std::vector<const Tensor*> parts;
    for (const auto& k : kept) parts.push_back(&k);
    Tensor stacked = ws.get("mllama.stacked", Shape{K, BM * TL, D});
    be.concat(parts, 0, stacked);
    Tensor interleaved = ws.get("mllama.interleaved", Shape{BM * TL, D, K});
    const int perm[] = {1, 2, 0};
    be.permute(stacked, perm, interleaved);
    const Tensor inter2 = interleaved.reshape(Shape{BM * TL, D * K});
    const Tensor* both[] = {&flat, &inter2};
    be.concat(both, 1, joined);
  } else {
    be.copy(flat, joined);
  }
  const int64_t W = D * (1 + K);
  Tensor out = be.empty(Shape{B, M, T, P, W}, DType::F32);
  const Tensor out_tiles = out.reshape(Shape{BM * T, P * W});
  const Tensor joined_tiles = joined.reshape(Shape{BM * T, L * W});
  for (int64_t i = 0; i < BM * T; ++i) {
    Tensor dst = out_tiles.rows(i, 1).reshape(Shape{P, W});
    be.copy(joined_tiles.rows(i, 1).reshape(Shape{L, W}).rows(0, P), dst);
  }
  if (trace && trace->wants("vision_encoder_output")) trace->record("vision_encoder_output", out);
  return out;
}

Connector::Connector(const Config& config, const WeightLoader& w, Backend& backend)
    : config_(config), backend_(&backend) {
  projector_ = Linear::load(w, "multi_modal_projector", config.vision.output_dim(), config.text.hidden_size, true);
}

Tensor Connector::project(const Tensor& vision_states, const ModelInputs&, Trace* trace) {
  const int64_t W = config_.vision.output_dim(), H = config_.text.hidden_size;
  if (vision_states.rank() != 5 || vision_states.dim(4) != W)
    fail("mllama projector: vision states must be [B, images, tiles, patches, {}], got {}", W, vision_states.shape().str());
  Shape shape = vision_states.shape();
  const int64_t rows = vision_states.numel() / W;
  Tensor out = backend_->empty(Shape{rows, H}, DType::F32);
  projector_.forward(*backend_, vision_states, out);
  if (trace && trace->wants("cross_attention_states")) {
    shape[4] = H;
    trace->record("cross_attention_states", out.reshape(shape));
  }
  return out;
}

}  // namespace vlm::mllama
