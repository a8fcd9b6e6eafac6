#include "qwen2_vl_vision.hpp"

#include "vlm/nn/rotary.hpp"

namespace vlm::qwen2_vl {

int64_t VisionGrids::patches() const {
  int64_t n = 0;
  for (const auto& g : grids) n += g[0] * g[1] * g[2];
  return n;
}

VisionGrids vision_grids(const ModelInputs& inputs) {
  VisionGrids out{read_grids(inputs.tensors, "image_grid_thw")};
  for (const auto& g : read_grids(inputs.tensors, "video_grid_thw")) out.grids.push_back(g);
  return out;
}

namespace {

// Concatenates pixel_values and pixel_values_videos (in that order) on the backend.
Tensor gather_pixels(Backend& backend, const ModelInputs& inputs, int64_t row_width) {
  std::vector<Tensor> parts;
  for (const char* name : {"pixel_values", "pixel_values_videos"})
    if (const Tensor* t = inputs.find(name); t && t->numel()) {
      if (t->rank() != 2 || t->dim(1) != row_width)
        fail("{}: expected [patches, {}], got {}", name, row_width, t->shape().str());
      parts.push_back(*t);
    }
  int64_t rows = 0;
  for (const auto& p : parts) rows += p.dim(0);
  Tensor all = backend.empty(Shape{rows, row_width}, DType::F32);
  int64_t at = 0;
  for (const auto& p : parts) {
    Tensor dst = all.rows(at, p.dim(0));
    backend.copy(p.to(DType::F32), dst);  // host -> device (or host copy on the CPU)
    at += p.dim(0);
  }
  return all;
}

}  // namespace

VisionTower::VisionTower(const Config& config, const WeightLoader& weights, Backend& backend)
    : config_(config), backend_(&backend), workspaces_(backend) {
  const auto& v = config.vision;
  const int64_t row = v.in_channels * v.temporal_patch_size * v.patch_size * v.patch_size;
  // The Conv3d kernel equals its stride, so the convolution is a matmul with the flattened kernel.
  patch_embed_ = weights.load("visual.patch_embed.proj.weight",
                              Shape{v.embed_dim, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size})
                     .reshape(Shape{v.embed_dim, row});
  for (int64_t i = 0; i < v.depth; ++i)
    blocks_.push_back(VitBlock::load(weights, "visual.blocks." + std::to_string(i), v.block(), v.block_names()));
  // VisionRotaryEmbedding(head_dim / 2), theta 10000: head_dim/4 frequencies per axis.
  inv_freq_ = rope_inverse_frequencies(v.embed_dim / v.num_heads / 2, 10000.0);
}

Tensor VisionTower::encode(const ModelInputs& inputs, Trace* trace) {
  const auto lease = workspaces_.acquire();  // this call's scratch: the component stays shareable across threads
  Workspace& ws = *lease;
  const auto& v = config_.vision;
  const VisionGrids grids = vision_grids(inputs);
  const int64_t row = v.in_channels * v.temporal_patch_size * v.patch_size * v.patch_size;
  const Tensor pixels = gather_pixels(*backend_, inputs, row);
  const int64_t n = grids.patches();
  if (pixels.dim(0) != n)
    fail("pixel tensors hold {} patches but the grids (image_grid_thw / video_grid_thw) describe {}", pixels.dim(0), n);

  // Patch (h, w) positions in processor order: within each frame, 2x2 merge windows are consecutive.
  std::vector<int64_t> hpos, wpos, segments;
  const int64_t m = v.spatial_merge_size;
  for (const auto& [t, h, w] : grids.grids) {
    if (h % m || w % m) fail("grid {}x{} is not a multiple of the merge size {}", h, w, m);
    for (int64_t f = 0; f < t; ++f) {
      for (int64_t bh = 0; bh < h / m; ++bh)
        for (int64_t bw = 0; bw < w / m; ++bw)
          for (int64_t ih = 0; ih < m; ++ih)
            for (int64_t iw = 0; iw < m; ++iw) {
              hpos.push_back(bh * m + ih);
              wpos.push_back(bw * m + iw);
            }
      segments.push_back(h * w);  // attention stays within one frame
    }
  }
  const int64_t head_dim = v.embed_dim / v.num_heads;
  Tensor cos = Tensor::zeros(Shape{n, head_dim}, DType::F32), sin = Tensor::zeros(Shape{n, head_dim}, DType::F32);
  rope_tables_2d(hpos, wpos, inv_freq_, cos, sin);
  const Tensor dcos = backend_->upload(cos), dsin = backend_->upload(sin);

  Tensor x = backend_->empty(Shape{n, v.embed_dim}, DType::F32);
  backend_->matmul(pixels, patch_embed_, nullptr, x, true);
  for (const auto& block : blocks_) block.forward(ws, x, segments, dcos, dsin);
  if (trace && trace->wants("vision_encoder_output")) trace->record("vision_encoder_output", x);
  return x;
}

PatchMerger::PatchMerger(const Config& config, const WeightLoader& weights, Backend& backend)
    : config_(config), backend_(&backend), workspaces_(backend) {
  const auto& v = config.vision;
  ln_q_ = Norm::layer(weights, "visual.merger.ln_q", v.embed_dim, 1e-6f);
  fc1_ = Linear::load(weights, "visual.merger.mlp.0", v.merged_dim(), v.merged_dim(), true);
  fc2_ = Linear::load(weights, "visual.merger.mlp.2", v.merged_dim(), v.hidden_size, true);
}

Tensor PatchMerger::project(const Tensor& states, const ModelInputs&, Trace* trace) {
  const auto lease = workspaces_.acquire();  // this call's scratch: the component stays shareable across threads
  Workspace& ws = *lease;
  const auto& v = config_.vision;
  const int64_t window = v.spatial_merge_size * v.spatial_merge_size;
  if (states.dim(0) % window) fail("patch merger: {} patches is not a multiple of {}", states.dim(0), window);
  const int64_t merged = states.dim(0) / window;
  Tensor normed = ws.get("merger.normed", states.shape());
  ln_q_.forward(*backend_, states, normed);
  Tensor hidden = ws.get("merger.hidden", Shape{merged, v.merged_dim()});
  fc1_.forward(*backend_, normed.reshape(Shape{merged, v.merged_dim()}), hidden);
  backend_->activation(Activation::GeluErf, hidden, hidden);
  Tensor out = backend_->empty(Shape{merged, v.hidden_size}, DType::F32);
  fc2_.forward(*backend_, hidden, out);
  if (trace && trace->wants("image_features")) trace->record("image_features", out);
  return out;
}

}  // namespace vlm::qwen2_vl
