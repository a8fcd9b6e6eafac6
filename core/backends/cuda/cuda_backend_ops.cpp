// CudaBackend ops: check placement and shapes, then launch. Each op is a few lines on purpose; the
// arithmetic lives in kernels/*.cu and cuBLAS.
#include <cstring>
#include <vector>

#include "cuda_backend.hpp"
#include "cuda_status.hpp"
#include "vlm/util/error.hpp"

namespace vlm::cuda {
namespace {

// Callers have validated `dtype` as a float type.
FloatType float_type(DType dtype) {
  switch (dtype) {
    case DType::F16: return FloatType::F16;
    case DType::BF16: return FloatType::BF16;
    default: return FloatType::F32;
  }
}

cudaDataType_t cublas_type(DType dtype) {
  switch (dtype) {
    case DType::F16: return CUDA_R_16F;
    case DType::BF16: return CUDA_R_16BF;
    default: return CUDA_R_32F;
  }
}

ActivationKind activation_kind(Activation kind) {
  switch (kind) {
    case Activation::GeluErf: return ActivationKind::GeluErf;
    case Activation::GeluTanh: return ActivationKind::GeluTanh;
    case Activation::QuickGelu: return ActivationKind::QuickGelu;
    case Activation::Silu: return ActivationKind::Silu;
    case Activation::Relu: return ActivationKind::Relu;
  }
  fail("cuda: unknown activation {}", int(kind));
}

const std::byte* bytes(const Tensor& t) { return static_cast<const std::byte*>(t.raw()); }
std::byte* bytes(Tensor& t) { return static_cast<std::byte*>(t.raw()); }

}  // namespace

void CudaBackend::matmul(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out, bool w_transposed) {
  require_on_device(device(), "matmul", {&x, &w, bias, &out});
  const MatmulShape s = check_matmul(x, w, bias, out, w_transposed);
  activate();
  if (s.rows == 0 || s.n == 0) return;
  if (s.k == 0) {
    check_cuda(cudaMemsetAsync(out.raw(), 0, out.nbytes(), stream_), "cudaMemsetAsync");
  } else {
    // cublasGemmEx needs both operands in one type: f32 activations go to the weight's dtype first.
    Tensor x_as_weight_type;
    const void* x_data = x.raw();
    if (x.dtype() != w.dtype()) {
      x_as_weight_type = empty(x.shape(), w.dtype());
      check_launch(launch_convert(x.raw(), FloatType::F32, x_as_weight_type.raw(), float_type(w.dtype()), x.numel(),
                                  stream_),
                   "matmul");
      x_data = x_as_weight_type.raw();
    }
    // cuBLAS is column-major, where our row-major x [rows, K] reads as x^T and out [rows, N] as out^T.
    // So compute out^T = W x^T: W is w [N, K] transposed (lda K), or w [K, N] as it stands (lda N).
    const float one = 1.0f, zero = 0.0f;
    const cudaDataType_t type = cublas_type(w.dtype());
    check_cublas(cublasGemmEx_64(cublas_, w_transposed ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, s.n, s.rows, s.k,
                                 &one, w.raw(), type, w_transposed ? s.k : s.n, x_data, type, s.k, &zero,
                                 out.raw(), CUDA_R_32F, s.n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "cublasGemmEx_64");
  }
  if (bias)
    check_launch(launch_binary(BinaryOp::Add, out.data<float>(), bias->raw(), float_type(bias->dtype()),
                               out.data<float>(), s.rows * s.n, s.n, stream_),
                 "matmul bias");
}

void CudaBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out,
                            const AttentionParams& params) {
  require_on_device(device(), "attention", {&q, &k, &v, &out, params.key_mask, params.additive_mask});
  const AttentionShape s = check_attention(q, k, v, out, params);
  activate();
  const AttentionArgs args{
      .q = q.data<float>(),
      .k = k.raw(),
      .v = v.raw(),
      .kv_type = float_type(k.dtype()),
      .out = out.data<float>(),
      .batch = s.batch,
      .q_len = s.q_len,
      .q_heads = s.q_heads,
      .kv_heads = s.kv_heads,
      .head_dim = s.head_dim,
      .v_head_dim = s.v_head_dim,
      .kv_capacity = s.kv_capacity,
      .kv_len = s.kv_len,
      .scale = params.scale,
      .causal = params.causal,
      .q_offset = params.q_offset,
      .window = params.window,
      .key_mask = params.key_mask ? params.key_mask->data<uint8_t>() : nullptr,
      .additive_mask = params.additive_mask ? params.additive_mask->data<float>() : nullptr,
      .mask_batch_stride = s.mask_batch_stride,
      .mask_head_stride = s.mask_head_stride,
  };
  check_launch(launch_attention(args, stream_), "attention");
}

void CudaBackend::rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& out) {
  require_on_device(device(), "rms_norm", {&x, &weight, &out});
  const RowsShape s = check_rms_norm(x, weight, out);
  activate();
  check_launch(launch_rms_norm(x.data<float>(), weight.raw(), float_type(weight.dtype()), eps, out.data<float>(),
                               s.rows, s.cols, stream_),
               "rms_norm");
}

void CudaBackend::layer_norm(const Tensor& x, const Tensor& weight, const Tensor* bias, float eps, Tensor& out) {
  require_on_device(device(), "layer_norm", {&x, &weight, bias, &out});
  const RowsShape s = check_layer_norm(x, weight, bias, out);
  activate();
  check_launch(launch_layer_norm(x.data<float>(), weight.raw(), float_type(weight.dtype()),
                                 bias ? bias->raw() : nullptr, bias ? float_type(bias->dtype()) : FloatType::F32,
                                 eps, out.data<float>(), s.rows, s.cols, stream_),
               "layer_norm");
}

void CudaBackend::activation(Activation kind, const Tensor& x, Tensor& out) {
  require_on_device(device(), "activation", {&x, &out});
  const int64_t count = check_unary("activation", x, out);
  activate();
  check_launch(launch_activation(activation_kind(kind), x.data<float>(), out.data<float>(), count, stream_),
               "activation");
}

void CudaBackend::gated_activation(Activation kind, const Tensor& gate, const Tensor& up, Tensor& out) {
  require_on_device(device(), "gated_activation", {&gate, &up, &out});
  const int64_t count = check_gated_activation(gate, up, out);
  activate();
  check_launch(launch_gated_activation(activation_kind(kind), gate.data<float>(), up.data<float>(),
                                       out.data<float>(), count, stream_),
               "gated_activation");
}

void CudaBackend::softmax(const Tensor& x, Tensor& out) {
  require_on_device(device(), "softmax", {&x, &out});
  const RowsShape s = check_softmax(x, out);
  activate();
  check_launch(launch_softmax(x.data<float>(), out.data<float>(), s.rows, s.cols, stream_), "softmax");
}

void CudaBackend::rotary(const Tensor& x, const Tensor& cos, const Tensor& sin, Tensor& out) {
  require_on_device(device(), "rotary", {&x, &cos, &sin, &out});
  const RotaryShape s = check_rotary(x, cos, sin, out);
  activate();
  const RotaryArgs args{
      .x = x.data<float>(),
      .cos = cos.data<float>(),
      .sin = sin.data<float>(),
      .out = out.data<float>(),
      .batch = s.batch,
      .seq = s.seq,
      .heads = s.heads,
      .head_dim = s.head_dim,
      .rotary_dim = s.rotary_dim,
      .cos_per_batch = s.cos_per_batch,
  };
  check_launch(launch_rotary(args, stream_), "rotary");
}

void CudaBackend::embedding(const Tensor& ids, const Tensor& table, Tensor& out) {
  // ids may be on the host or on this device; they are range-checked on the host either way.
  require_on_device(device(), "embedding", {&table, &out});
  if (ids.defined() && !ids.is_host()) require_on_device(device(), "embedding", {&ids});
  const EmbeddingShape s = check_embedding(ids, table, out);
  std::vector<int64_t> checked_ids = checked_embedding_ids(download(ids), s.vocab);
  Tensor device_ids = empty(Shape{s.count}, DType::I64);
  copy(Tensor::borrow(checked_ids.data(), Shape{s.count}, DType::I64, Device::cpu(), nullptr), device_ids);
  check_launch(launch_embedding(device_ids.data<int64_t>(), s.count, table.raw(), float_type(table.dtype()), s.dim,
                                out.data<float>(), stream_),
               "embedding");
}

void CudaBackend::binary(std::string_view op, BinaryOp kind, const Tensor& a, const Tensor& b, Tensor& out) {
  require_on_device(device(), op, {&a, &b, &out});
  const BroadcastShape s = check_broadcast(op, a, b, out);
  activate();
  check_launch(launch_binary(kind, a.data<float>(), b.raw(), float_type(b.dtype()), out.data<float>(), s.count,
                             s.b_count, stream_),
               op);
}

void CudaBackend::add(const Tensor& a, const Tensor& b, Tensor& out) { binary("add", BinaryOp::Add, a, b, out); }

void CudaBackend::mul(const Tensor& a, const Tensor& b, Tensor& out) { binary("mul", BinaryOp::Mul, a, b, out); }

void CudaBackend::scale(const Tensor& x, float s, Tensor& out) {
  require_on_device(device(), "scale", {&x, &out});
  const int64_t count = check_unary("scale", x, out);
  activate();
  check_launch(launch_scale(x.data<float>(), s, out.data<float>(), count, stream_), "scale");
}

void CudaBackend::copy_rows(void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width,
                            size_t rows) {
  if (width == 0 || rows == 0) return;
  if (rows == 1)  // a plain copy has no pitch limit (cudaDevAttrMaxPitch)
    check_cuda(cudaMemcpyAsync(dst, src, width, cudaMemcpyDeviceToDevice, stream_), "cudaMemcpyAsync");
  else
    check_cuda(cudaMemcpy2DAsync(dst, dst_pitch, src, src_pitch, width, rows, cudaMemcpyDeviceToDevice, stream_),
               "cudaMemcpy2DAsync");
}

void CudaBackend::concat(std::span<const Tensor* const> parts, int axis, Tensor& out) {
  for (const Tensor* part : parts) require_on_device(device(), "concat", {part});
  require_on_device(device(), "concat", {&out});
  const AxisSplit split = check_concat(parts, axis, out);
  activate();
  // Each outer row of out is the parts' outer rows laid side by side.
  const size_t element = dtype_size(out.dtype());
  const size_t out_pitch = size_t(out.dim(split.axis) * split.inner) * element;
  size_t offset = 0;
  for (const Tensor* part : parts) {
    const size_t width = size_t(part->dim(split.axis) * split.inner) * element;
    copy_rows(bytes(out) + offset, out_pitch, part->raw(), width, width, size_t(split.outer));
    offset += width;
  }
}

void CudaBackend::slice(const Tensor& x, int axis, int64_t start, Tensor& out) {
  require_on_device(device(), "slice", {&x, &out});
  const AxisSplit split = check_slice(x, axis, start, out);
  activate();
  const size_t element = dtype_size(x.dtype());
  const size_t x_pitch = size_t(x.dim(split.axis) * split.inner) * element;
  const size_t width = size_t(out.dim(split.axis) * split.inner) * element;
  copy_rows(out.raw(), width, bytes(x) + size_t(start * split.inner) * element, x_pitch, width,
            size_t(split.outer));
}

void CudaBackend::gather(std::string_view op, const PermutePlan& plan, const Tensor& x, Tensor& out) {
  activate();
  PermuteArgs args{};
  args.src = x.raw();
  args.dst = out.raw();
  args.rank = plan.rank;
  args.element_bytes = int(dtype_size(x.dtype()));
  args.count = x.numel();
  static_assert(PermutePlan::kMaxRank <= kMaxPermuteRank);
  std::memcpy(args.out_dims, plan.out_dims.data(), sizeof(int64_t) * size_t(plan.rank));
  std::memcpy(args.src_strides, plan.src_strides.data(), sizeof(int64_t) * size_t(plan.rank));
  check_launch(launch_permute(args, stream_), op);
}

void CudaBackend::permute(const Tensor& x, std::span<const int> perm, Tensor& out) {
  require_on_device(device(), "permute", {&x, &out});
  gather("permute", check_permute(x, perm, out), x, out);
}

void CudaBackend::patchify(const Tensor& img, int patch, Tensor& out) {
  require_on_device(device(), "patchify", {&img, &out});
  gather("patchify", check_patchify(img, patch, out), img, out);
}

void CudaBackend::convert(const Tensor& x, Tensor& out) {
  require_on_device(device(), "convert", {&x, &out});
  check_convert(x, out);
  activate();
  if (x.dtype() == out.dtype()) {
    if (x.nbytes())
      check_cuda(cudaMemcpyAsync(out.raw(), x.raw(), x.nbytes(), cudaMemcpyDeviceToDevice, stream_),
                 "cudaMemcpyAsync");
    return;
  }
  check_launch(launch_convert(x.raw(), float_type(x.dtype()), out.raw(), float_type(out.dtype()), x.numel(), stream_),
               "convert");
}

}  // namespace vlm::cuda
