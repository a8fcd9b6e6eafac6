#pragma once
// Shape, dtype and placement validation for every op, run before anything is launched. Each check throws a
// vlm::Error naming the op and the offending shapes, and returns the sizes the launch needs. Plain C++
// with no CUDA dependency, so the tests exercise it on machines without a GPU.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

#include "vlm/backend/backend.hpp"

namespace vlm::cuda {

// Every non-null tensor must be defined and live on `device`.
void require_on_device(Device device, std::string_view op, std::initializer_list<const Tensor*> tensors);

// copy(): equal shapes and dtypes, one side on `device`, the other on `device` or the host.
void check_copy(Device device, const Tensor& src, const Tensor& dst);

struct MatmulShape {
  int64_t rows, k, n;
};
MatmulShape check_matmul(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out,
                         bool w_transposed);

struct AttentionShape {
  int64_t batch, q_len, q_heads, kv_heads, head_dim, v_head_dim, kv_capacity, kv_len;
  int64_t mask_batch_stride, mask_head_stride;  // of the additive mask; 0 where it broadcasts
};
AttentionShape check_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                               const AttentionParams& params);

// A tensor seen as [rows, cols], cols being its last dimension.
struct RowsShape {
  int64_t rows, cols;
};
RowsShape check_rms_norm(const Tensor& x, const Tensor& weight, const Tensor& out);
RowsShape check_layer_norm(const Tensor& x, const Tensor& weight, const Tensor* bias, const Tensor& out);
RowsShape check_softmax(const Tensor& x, const Tensor& out);
// An f32 -> f32 op of one input (activation, scale); returns the element count.
int64_t check_unary(std::string_view op, const Tensor& x, const Tensor& out);
int64_t check_gated_activation(const Tensor& gate, const Tensor& up, const Tensor& out);

struct RotaryShape {
  int64_t batch, seq, heads, head_dim, rotary_dim;
  bool cos_per_batch;
};
RotaryShape check_rotary(const Tensor& x, const Tensor& cos, const Tensor& sin, const Tensor& out);

struct EmbeddingShape {
  int64_t count, vocab, dim;
};
EmbeddingShape check_embedding(const Tensor& ids, const Tensor& table, const Tensor& out);
// The ids (a host tensor, i32 or i64) as int64, each checked to lie in [0, vocab).
std::vector<int64_t> checked_embedding_ids(const Tensor& host_ids, int64_t vocab);

struct BroadcastShape {
  int64_t count, b_count;
};
// add / mul: out = a op b with b repeated over a's leading dims.
BroadcastShape check_broadcast(std::string_view op, const Tensor& a, const Tensor& b, const Tensor& out);

// Concat and slice seen as copies of `outer` rows, each `inner` elements per index along `axis`.
struct AxisSplit {
  int axis;
  int64_t outer, inner;
};
AxisSplit check_concat(std::span<const Tensor* const> parts, int axis, const Tensor& out);
AxisSplit check_slice(const Tensor& x, int axis, int64_t start, const Tensor& out);

// A permutation as the gather the kernel performs: output element (i0, ..., i{rank-1}) comes from source
// element sum(i_d * src_strides[d]).
struct PermutePlan {
  static constexpr int kMaxRank = Shape::kMaxRank;
  int rank = 0;
  std::array<int64_t, kMaxRank> out_dims{};
  std::array<int64_t, kMaxRank> src_strides{};
};
PermutePlan check_permute(const Tensor& x, std::span<const int> perm, const Tensor& out);
// Patchify is the permutation [B, C, H/p, p, W/p, p] -> [B, H/p, W/p, C, p, p].
PermutePlan check_patchify(const Tensor& img, int patch, const Tensor& out);

void check_convert(const Tensor& x, const Tensor& out);

}  // namespace vlm::cuda
