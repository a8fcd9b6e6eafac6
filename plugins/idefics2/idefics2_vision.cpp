#include "idefics2_vision.hpp"

#include <cmath>
#include <cstring>

namespace vlm::idefics2 {

namespace {

const std::string kVision = "model.vision_model";
const std::string kConnector = "model.connector";

// torch.arange(start, end, step) for float32 output: ceil((end - start) / step) elements, element i the
// double start + i * step rounded to float32 (the scalar path of torch's CPU kernel).
std::vector<float> arange_f32(double start, double end, double step) {
  const auto n = int64_t(std::ceil((end - start) / step));
  std::vector<float> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(float(start + double(i) * step));
  return out;
}

// torch.bucketize(x, boundaries, right=True): the number of boundaries <= x.
int64_t bucket(float x, const std::vector<float>& boundaries) {
  int64_t n = 0;
  for (const float b : boundaries) n += b <= x;
  return n;
}

}  // namespace

bool PatchLayout::all_real() const {
  for (const uint8_t p : patches)
    if (!p) return false;
  return true;
}

PatchLayout PatchLayout::of(const ModelInputs& inputs, int64_t patch) {
  const Tensor& pixels = inputs.at("pixel_values");
  if (pixels.rank() != 5 || pixels.dim(2) != 3 || pixels.dtype() != DType::F32)
    fail("pixel_values: expected [batch, images, 3, H, W] f32, got {} {}", pixels.shape().str(), dtype_name(pixels.dtype()));
  const int64_t images = pixels.dim(0) * pixels.dim(1), H = pixels.dim(3), W = pixels.dim(4);
  PatchLayout l;
  l.height = H;
  l.width = W;
  l.grid_h = H / patch;
  l.grid_w = W / patch;
  if (l.grid_h == 0 || l.grid_w == 0) fail("pixel_values: {}x{} images are smaller than one {}px patch", W, H, patch);
  const Tensor* mask = inputs.find("pixel_attention_mask");
  if (mask && !(mask->shape() == Shape{pixels.dim(0), pixels.dim(1), H, W}))
    fail("pixel_attention_mask {} does not match pixel_values {}", mask->shape().str(), pixels.shape().str());
  const Tensor mask64 = mask ? mask->to(DType::I64) : Tensor();
  const int64_t plane = 3 * H * W;
  for (int64_t i = 0; i < images; ++i) {
    const float* p = pixels.data<float>() + i * plane;
    bool real = false;
    for (int64_t j = 0; j < plane && !real; ++j) real = p[j] != 0.0f;
    if (!real) continue;  // a padding image (HF: every value exactly 0.0)
    l.images.push_back(i);
    for (int64_t gy = 0; gy < l.grid_h; ++gy)
      for (int64_t gx = 0; gx < l.grid_w; ++gx) {
        bool full = true;
        if (mask64.defined())
          for (int64_t y = gy * patch; y < (gy + 1) * patch && full; ++y)
            for (int64_t x = gx * patch; x < (gx + 1) * patch && full; ++x)
              full = mask64.data<int64_t>()[(i * H + y) * W + x] != 0;
        l.patches.push_back(full ? 1 : 0);
      }
  }
  if (l.images.empty()) fail("pixel_values holds no real image (every value is 0)");
  return l;
}

std::vector<int64_t> navit_position_ids(std::span<const uint8_t> patches, int64_t grid_h, int64_t grid_w,
                                        int64_t nps) {
  int64_t nb_h = 0, nb_w = 0;  // real patches down the first column and along the first row
  for (int64_t y = 0; y < grid_h; ++y) nb_h += patches[size_t(y * grid_w)];
  for (int64_t x = 0; x < grid_w; ++x) nb_w += patches[size_t(x)];
  std::vector<int64_t> ids(patches.size(), 0);
  if (nb_h == 0 || nb_w == 0) return ids;
  const std::vector<float> boundaries = arange_f32(1.0 / double(nps), 1.0, 1.0 / double(nps));
  // 1 / an int64 tensor is a float32 reciprocal; arange reads it back as a double.
  const std::vector<float> fr_h = arange_f32(0.0, 1.0 - 1e-6, double(1.0f / float(nb_h)));
  const std::vector<float> fr_w = arange_f32(0.0, 1.0 - 1e-6, double(1.0f / float(nb_w)));
  std::vector<int64_t> pos;
  for (const float h : fr_h)
    for (const float w : fr_w) pos.push_back(bucket(h, boundaries) * nps + bucket(w, boundaries));
  size_t next = 0;
  for (size_t i = 0; i < patches.size(); ++i)
    if (patches[i]) {
      if (next >= pos.size()) fail("vision: the real patches do not form a rectangle from the top-left corner");
      ids[i] = pos[next++];
    }
  return ids;
}

VisionEncoder::VisionEncoder(const Config& config, const WeightLoader& w, Backend& backend)
    : config_(config.vision), backend_(&backend), workspaces_(backend) {
  const auto& v = config_;
  patch_embedding_.weight = w.load(kVision + ".embeddings.patch_embedding.weight",
                                   Shape{v.hidden_size, v.num_channels, v.patch_size, v.patch_size})
                                .reshape(Shape{v.hidden_size, v.patch_row()});
  patch_embedding_.bias = w.load(kVision + ".embeddings.patch_embedding.bias", Shape{v.hidden_size});
  patch_embedding_.in = v.patch_row();
  patch_embedding_.out = v.hidden_size;
  position_embedding_ = w.load(kVision + ".embeddings.position_embedding.weight",
                               Shape{v.patches_per_side() * v.patches_per_side(), v.hidden_size});
  for (int64_t i = 0; i < v.num_hidden_layers; ++i)
    layers_.push_back(VitBlock::load(w, kVision + ".encoder.layers." + std::to_string(i), v.block()));
  post_layernorm_ = Norm::layer(w, kVision + ".post_layernorm", v.hidden_size, float(v.layer_norm_eps));
}

void VisionEncoder::declare(std::vector<TensorSpec>& specs, const Config& c) {
  const auto& v = c.vision;
  specs.push_back({kVision + ".embeddings.patch_embedding.weight",
                   Shape{v.hidden_size, v.num_channels, v.patch_size, v.patch_size}});
  specs.push_back({kVision + ".embeddings.patch_embedding.bias", Shape{v.hidden_size}});
  specs.push_back({kVision + ".embeddings.position_embedding.weight",
                   Shape{v.patches_per_side() * v.patches_per_side(), v.hidden_size}});
  for (int64_t i = 0; i < v.num_hidden_layers; ++i)
    VitBlock::declare(specs, kVision + ".encoder.layers." + std::to_string(i), v.block());
  add_norm(specs, kVision + ".post_layernorm", v.hidden_size, true);
}

void VisionEncoder::add_ops(std::vector<Op>& ops, const Config& c) {
  vlm::add_ops(ops, {Op::Patchify, Op::Matmul, Op::Embedding, Op::Add, Op::LayerNorm});
  VitBlock::add_ops(ops, c.vision.block());
}

Tensor VisionEncoder::encode(const ModelInputs& inputs, Trace* trace) {
  const auto& v = config_;
  const PatchLayout layout = PatchLayout::of(inputs, v.patch_size);
  const auto lease = workspaces_.acquire();
  Workspace& ws = *lease;
  Backend& be = *backend_;
  const int64_t n = layout.count(), L = layout.per_image(), D = v.hidden_size, ps = v.patch_size;
  const int64_t H = layout.grid_h * ps, W = layout.grid_w * ps;  // the conv ignores the remainder rows/columns

  // The real images, cropped to whole patches.
  const Tensor& pixels = inputs.at("pixel_values");
  Tensor host = Tensor::zeros(Shape{n, 3, H, W}, DType::F32);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < H; ++y)
        std::memcpy(host.data<float>() + ((i * 3 + c) * H + y) * W,
                    pixels.data<float>() + ((layout.images[size_t(i)] * 3 + c) * layout.height + y) * layout.width,
                    size_t(W) * sizeof(float));
  const Tensor device_pixels = ws.to_device("idefics2.pixels", host);
  Tensor patches = ws.get("idefics2.patches", Shape{n, L, v.patch_row()});
  be.patchify(device_pixels, int(ps), patches);
  Tensor hidden = be.empty(Shape{n, L, D}, DType::F32);
  Tensor flat = hidden.reshape(Shape{n * L, D});
  patch_embedding_.forward(be, patches, flat);

  std::vector<int64_t> position_ids;
  for (int64_t i = 0; i < n; ++i) {
    const auto ids = navit_position_ids(std::span(layout.patches).subspan(size_t(i * L), size_t(L)), layout.grid_h,
                                        layout.grid_w, v.patches_per_side());
    position_ids.insert(position_ids.end(), ids.begin(), ids.end());
  }
  const Tensor host_ids = Tensor::borrow(position_ids.data(), Shape{n * L}, DType::I64, Device::cpu(), nullptr);
  Tensor positions = ws.get("idefics2.positions", Shape{n * L, D});
  be.embedding(ws.to_device("idefics2.position_ids", host_ids), position_embedding_, positions);
  be.add(flat, positions, flat);

  // Padded patches are never attended (their own rows are still computed, as in Hugging Face).
  Tensor key_masks;
  if (!layout.all_real())  // borrowed on the CPU: `layout` outlives every use
    key_masks = ws.to_device("idefics2.key_masks", Tensor::borrow(const_cast<uint8_t*>(layout.patches.data()),
                                                                  Shape{n, L}, DType::U8, Device::cpu(), nullptr));
  const std::vector<int64_t> segments(size_t(n), L);
  for (const auto& layer : layers_)
    layer.forward(ws, flat, segments, Tensor(), Tensor(), SegmentMasks{key_masks.defined() ? &key_masks : nullptr});
  post_layernorm_.forward(be, flat, flat);

  if (trace && trace->wants("patch_attention_mask")) {
    Tensor mask = Tensor::zeros(Shape{n, layout.grid_h, layout.grid_w}, DType::U8);
    std::memcpy(mask.data<uint8_t>(), layout.patches.data(), layout.patches.size());
    trace->record("patch_attention_mask", mask);
  }
  if (trace && trace->wants("vision_encoder_output")) trace->record("vision_encoder_output", hidden);
  return hidden;
}

Connector::Connector(const Config& config, const WeightLoader& w, Backend& backend)
    : config_(config), backend_(&backend), workspaces_(backend) {
  const auto& p = config.perceiver;
  const int64_t Dv = config.vision.hidden_size, Dt = config.text.hidden_size, Ti = config.text.intermediate_size;
  const std::string m = kConnector + ".modality_projection.";
  projection_gate_ = Linear::load(w, m + "gate_proj", Dv, Ti, false);
  projection_up_ = Linear::load(w, m + "up_proj", Dv, Ti, false);
  projection_down_ = Linear::load(w, m + "down_proj", Ti, Dt, false);
  const std::string r = kConnector + ".perceiver_resampler.";
  // A parameter read as f32 once (it seeds every image's latents).
  latents_ = w.load_f32(r + "latents", Shape{p.resampler_n_latents, Dt});
  const float eps = float(p.rms_norm_eps);
  const int64_t inner = p.resampler_n_heads * p.resampler_head_dim, kv = p.num_key_value_heads * p.resampler_head_dim;
  for (int64_t i = 0; i < p.resampler_depth; ++i) {
    const std::string l = r + "layers." + std::to_string(i) + ".";
    layers_.push_back({Norm::rms(w, l + "input_latents_norm", Dt, eps), Norm::rms(w, l + "input_context_norm", Dt, eps),
                       Norm::rms(w, l + "post_attention_layernorm", Dt, eps),
                       Linear::load(w, l + "self_attn.q_proj", Dt, inner, false),
                       Linear::load(w, l + "self_attn.k_proj", Dt, kv, false),
                       Linear::load(w, l + "self_attn.v_proj", Dt, kv, false),
                       Linear::load(w, l + "self_attn.o_proj", inner, Dt, false),
                       Linear::load(w, l + "mlp.gate_proj", Dt, 4 * Dt, false),
                       Linear::load(w, l + "mlp.up_proj", Dt, 4 * Dt, false),
                       Linear::load(w, l + "mlp.down_proj", 4 * Dt, Dt, false)});
  }
  norm_ = Norm::rms(w, r + "norm", Dt, eps);
}

void Connector::declare(std::vector<TensorSpec>& specs, const Config& c) {
  const auto& p = c.perceiver;
  const int64_t Dv = c.vision.hidden_size, Dt = c.text.hidden_size, Ti = c.text.intermediate_size;
  const std::string m = kConnector + ".modality_projection.";
  add_linear(specs, m + "gate_proj", Dv, Ti, false);
  add_linear(specs, m + "up_proj", Dv, Ti, false);
  add_linear(specs, m + "down_proj", Ti, Dt, false);
  const std::string r = kConnector + ".perceiver_resampler.";
  specs.push_back({r + "latents", Shape{p.resampler_n_latents, Dt}, false, Init::Ones});
  const int64_t inner = p.resampler_n_heads * p.resampler_head_dim, kv = p.num_key_value_heads * p.resampler_head_dim;
  for (int64_t i = 0; i < p.resampler_depth; ++i) {
    const std::string l = r + "layers." + std::to_string(i) + ".";
    for (const char* norm : {"input_latents_norm", "input_context_norm", "post_attention_layernorm"})
      add_norm(specs, l + norm, Dt, false);
    add_linear(specs, l + "self_attn.q_proj", Dt, inner, false);
    add_linear(specs, l + "self_attn.k_proj", Dt, kv, false);
    add_linear(specs, l + "self_attn.v_proj", Dt, kv, false);
    add_linear(specs, l + "self_attn.o_proj", inner, Dt, false);
    add_linear(specs, l + "mlp.gate_proj", Dt, 4 * Dt, false);
    add_linear(specs, l + "mlp.up_proj", Dt, 4 * Dt, false);
    add_linear(specs, l + "mlp.down_proj", 4 * Dt, Dt, false);
  }
  add_norm(specs, r + "norm", Dt, false);
}

void Connector::add_ops(std::vector<Op>& ops) {
  vlm::add_ops(ops, {Op::Matmul, Op::GatedActivation, Op::RmsNorm, Op::Attention, Op::Add});
}

Tensor Connector::project(const Tensor& vision_states, const ModelInputs& inputs, Trace* trace) {
  const auto& p = config_.perceiver;
  const PatchLayout layout = PatchLayout::of(inputs, config_.vision.patch_size);
  const int64_t n = layout.count(), L = layout.per_image(), Dt = config_.text.hidden_size;
  const int64_t latents = p.resampler_n_latents, heads = p.resampler_n_heads, kv_heads = p.num_key_value_heads,
                hd = p.resampler_head_dim;
  if (vision_states.rank() != 3 || vision_states.dim(0) != n || vision_states.dim(1) != L)
    fail("idefics2 connector: vision states {} do not match {} images of {} patches", vision_states.shape().str(), n, L);
  const auto lease = workspaces_.acquire();
  Workspace& ws = *lease;
  Backend& be = *backend_;
  const Activation act = activation_from_name(config_.text.hidden_act), perceiver_act = activation_from_name(p.hidden_act);

  // Modality projection over every patch: down(act(gate(x)) * up(x)).
  const Tensor rows = vision_states.reshape(Shape{n * L, vision_states.dim(2)});
  Tensor gate = ws.get("p.proj_gate", Shape{n * L, config_.text.intermediate_size});
  Tensor up = ws.get("p.proj_up", Shape{n * L, config_.text.intermediate_size});
  projection_gate_.forward(be, rows, gate);
  projection_up_.forward(be, rows, up);
  be.gated_activation(act, gate, up, gate);
  Tensor projected = be.empty(Shape{n, L, Dt}, DType::F32);
  projection_down_.forward(be, gate, projected);
  if (trace && trace->wants("modality_projection_output")) trace->record("modality_projection_output", projected);

  // The context of each image: its real patches only (masked keys get no weight, so leaving them out is
  // exact), kept as one block per image.
  std::vector<int64_t> context_rows;  // per image
  int64_t R = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = 0;
    for (int64_t j = 0; j < L; ++j) r += layout.patches[size_t(i * L + j)];
    context_rows.push_back(r);
    R += r;
  }
  const Tensor flat = projected.reshape(Shape{n * L, Dt});
  Tensor context = ws.get("p.context", Shape{R, Dt});
  for (int64_t i = 0, out = 0; i < n; ++i)
    for (int64_t j = 0; j < L;) {
      if (!layout.patches[size_t(i * L + j)]) {
        ++j;
        continue;
      }
      int64_t end = j;
      while (end < L && layout.patches[size_t(i * L + end)]) ++end;
      Tensor dst = context.rows(out, end - j);
      be.copy(flat.rows(i * L + j, end - j), dst);
      out += end - j;
      j = end;
    }

  Tensor state = be.empty(Shape{n * latents, Dt}, DType::F32);
  for (int64_t i = 0; i < n; ++i) {
    Tensor dst = state.rows(i * latents, latents);
    be.copy(latents_, dst);
  }
  const int64_t K = R + n * latents;
  Tensor context_normed = ws.get("p.context_normed", Shape{R, Dt});
  Tensor latents_normed = ws.get("p.latents_normed", Shape{n * latents, Dt});
  Tensor keys_in = ws.get("p.keys_in", Shape{K, Dt});
  Tensor q = ws.get("p.q", Shape{n * latents, heads, hd});
  Tensor k = ws.get("p.k", Shape{K, kv_heads, hd}), v = ws.get("p.v", Shape{K, kv_heads, hd});
  Tensor attn = ws.get("p.attn", Shape{n * latents, heads, hd});
  Tensor delta = ws.get("p.delta", Shape{n * latents, Dt});
  Tensor mlp_gate = ws.get("p.mlp_gate", Shape{n * latents, 4 * Dt}), mlp_up = ws.get("p.mlp_up", Shape{n * latents, 4 * Dt});
  std::vector<int64_t> q_segments(size_t(n), latents), kv_segments;
  for (const int64_t r : context_rows) kv_segments.push_back(r + latents);
  AttentionParams params;
  params.scale = 1.0f / std::sqrt(float(hd));
  for (const auto& layer : layers_) {
    layer.latents_norm.forward(be, state, latents_normed);
    layer.context_norm.forward(be, context, context_normed);
    // Keys and values of image i come from [its normalised context ; its normalised latents].
    for (int64_t i = 0, in_ctx = 0, out = 0; i < n; ++i) {
      const int64_t r = context_rows[size_t(i)];
      Tensor ctx_dst = keys_in.rows(out, r), lat_dst = keys_in.rows(out + r, latents);
      if (r) be.copy(context_normed.rows(in_ctx, r), ctx_dst);
      be.copy(latents_normed.rows(i * latents, latents), lat_dst);
      in_ctx += r;
      out += r + latents;
    }
    layer.q.forward(be, latents_normed, q);
    layer.k.forward(be, keys_in, k);
    layer.v.forward(be, keys_in, v);
    attend_segments(be, q, k, v, attn, q_segments, kv_segments, params);
    layer.o.forward(be, attn, delta);
    be.add(state, delta, state);
    layer.post_norm.forward(be, state, latents_normed);
    layer.gate.forward(be, latents_normed, mlp_gate);
    layer.up.forward(be, latents_normed, mlp_up);
    be.gated_activation(perceiver_act, mlp_gate, mlp_up, mlp_gate);
    layer.down.forward(be, mlp_gate, delta);
    be.add(state, delta, state);
  }
  Tensor features = be.empty(Shape{n * latents, Dt}, DType::F32);
  norm_.forward(be, state, features);
  if (trace && trace->wants("image_features"))
    trace->record("image_features", features.reshape(Shape{n, latents, Dt}));
  return features;
}

}  // namespace vlm::idefics2
