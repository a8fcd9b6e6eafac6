#include "cpu_backend.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

#include <omp.h>

#include "checks.hpp"
#include "cpu_ops.hpp"
#include "cpu_probe.hpp"
#include "matmul_path.hpp"
#include "quant_gemm.hpp"
#include "vlm/backend/backend_plugin.hpp"

namespace vlm::cpu {

CpuBackend::CpuBackend(const BackendOptions& options)
    : budget_(options.memory_budget_bytes == kDefaultMemoryBudget ? default_memory_budget_bytes()
                                                                  : options.memory_budget_bytes,
              "cpu") {
  set_threads(options.threads);
}

std::string CpuBackend::describe() const {
  const dnnl_version_t* v = dnnl_version();
  return fmt::format("cpu: oneDNN {}.{}.{} ({}), {} threads, {} matmul primitives built", v->major, v->minor,
                     v->patch, OnednnMatmul::isa_name(), threads_, matmul_.primitives_built());
}

nlohmann::json CpuBackend::report(bool measure_bandwidth) const {
  const CpuFeatures features = cpu_features();
  const ComputePeaks& peaks = compute_peaks();
  const MatmulChoice& choice = matmul_choice();
  const dnnl_version_t* v = dnnl_version();
  nlohmann::json out = {
      {"matmul_path", matmul_path_name(choice.path)},
      {"matmul_reason", choice.reason},
      {"onednn", fmt::format("{}.{}.{}", v->major, v->minor, v->patch)},
      {"onednn_isa", OnednnMatmul::isa_name()},
      {"threads", threads_},
      {"memory_budget_bytes", budget_.limit()},
      {"memory_in_use_bytes", budget_.in_use()},
      {"cpu_features", {{"avx512f", features.avx512f},
                        {"avx512_bf16", features.avx512_bf16},
                        {"avx512_vnni", features.avx512_vnni},
                        {"amx_bf16", features.amx_bf16},
                        {"amx_int8", features.amx_int8}}},
      {"f32_fma_gflops_per_core", peaks.f32_fma_gflops},
      {"bf16_dot_gflops_per_core", peaks.bf16_dot_gflops},
      {"matmul_weight_bytes", matmul_weight_bytes_.load()},
      // Quantised weights (--quantize) with few rows: int8 dot products, or dequantised blocks.
      {"quantized_kernel", quant_gemm_available() ? "vnni" : "dequantized blocks"},
  };
  if (measure_bandwidth) {
    use_threads();
    out["read_bandwidth_gbs"] = measure_read_bandwidth_gbs(size_t(512) << 20);  // far past any L3
  }
  return out;
}

bool CpuBackend::supports(Op op, DType dtype) const {
  switch (op) {
    // Weights (matmul, norm weights/biases, embedding tables) and the broadcast operand of add/mul may
    // be stored in any float dtype; they are widened on the fly.
    case Op::Matmul:
      return is_float(dtype) || is_quantized(dtype);  // q8 / q4: the int8 kernels, or dequantised blocks
    case Op::RmsNorm:
    case Op::LayerNorm:
    case Op::Embedding:
    case Op::Add:
    case Op::Mul:
      return is_float(dtype);
    // Activations are f32.
    case Op::Attention:
    case Op::Activation:
    case Op::GatedActivation:
    case Op::Softmax:
    case Op::Rotary:
    case Op::Scale:
      return dtype == DType::F32;
    // Pure data movement works on bytes; convert handles every pair but float -> integer.
    case Op::Concat:
    case Op::Slice:
    case Op::Permute:
    case Op::Patchify:
    case Op::Convert:
      return true;
    case Op::kCount: break;
  }
  return false;
}

void CpuBackend::set_threads(int threads) {
  const int wanted = threads > 0 ? threads : omp_get_num_procs();
  if (wanted != threads_) matmul_.clear();
  threads_ = wanted;
  use_threads();
}

void CpuBackend::use_threads() const {
  if (omp_get_max_threads() != threads_) omp_set_num_threads(threads_);
}

// No memset: every op writes all of `out`, and activations are allocated often. The budget is charged
// first, so an oversized request is refused before any memory is taken; the charge ends with the block.
Tensor CpuBackend::empty(const Shape& shape, DType dtype) {
  const size_t bytes = (storage_bytes(shape, dtype) + 63) / 64 * 64;
  std::shared_ptr<const void> charge = budget_.charge(bytes, shape, dtype);
  void* data = bytes ? std::aligned_alloc(64, bytes) : nullptr;
  if (bytes && !data)
    fail("cpu: out of memory allocating {} bytes for a {} {} tensor", bytes, shape.str(), dtype_name(dtype));
  std::shared_ptr<void> owner(data, [charge = std::move(charge)](void* p) { std::free(p); });
  return Tensor::borrow(data, shape, dtype, Device::cpu(), std::move(owner));
}

Tensor CpuBackend::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  if (t.nbytes()) std::memset(t.raw(), 0, t.nbytes());
  return t;
}

void CpuBackend::copy(const Tensor& src, Tensor& dst) {
  check_tensor("copy", "src", src, kAnyDType);
  check_tensor("copy", "dst", dst, kAnyDType);
  check(src.shape() == dst.shape() && src.dtype() == dst.dtype(), "copy",
        "{} and {} must have the same shape and dtype", describe_tensor("src", src), describe_tensor("dst", dst));
  if (src.nbytes() && src.raw() != dst.raw()) std::memmove(dst.raw(), src.raw(), src.nbytes());
}

Tensor CpuBackend::upload(const Tensor& host_tensor) {
  check(host_tensor.defined() && host_tensor.is_host(), "upload", "{} is not a host tensor",
        describe_tensor("tensor", host_tensor));
  return host_tensor;
}

Tensor CpuBackend::download(const Tensor& t) {
  check(t.defined() && t.is_host(), "download", "{} is not a cpu tensor", describe_tensor("tensor", t));
  return t;
}

void CpuBackend::matmul(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out, bool w_transposed) {
  use_threads();
  matmul_.run(x, w, bias, out, w_transposed);
  matmul_weight_bytes_.fetch_add(w.nbytes(), std::memory_order_relaxed);
}

void CpuBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out,
                           const AttentionParams& params) {
  use_threads();
  cpu::attention(q, k, v, out, params);
}

void CpuBackend::rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& out) {
  use_threads();
  cpu::rms_norm(x, weight, eps, out);
}

void CpuBackend::layer_norm(const Tensor& x, const Tensor& weight, const Tensor* bias, float eps, Tensor& out) {
  use_threads();
  cpu::layer_norm(x, weight, bias, eps, out);
}

void CpuBackend::activation(Activation kind, const Tensor& x, Tensor& out) {
  use_threads();
  cpu::activation(kind, x, out);
}

void CpuBackend::gated_activation(Activation kind, const Tensor& gate, const Tensor& up, Tensor& out) {
  use_threads();
  cpu::gated_activation(kind, gate, up, out);
}

void CpuBackend::softmax(const Tensor& x, Tensor& out) {
  use_threads();
  cpu::softmax(x, out);
}

void CpuBackend::rotary(const Tensor& x, const Tensor& cos, const Tensor& sin, Tensor& out) {
  use_threads();
  cpu::rotary(x, cos, sin, out);
}

void CpuBackend::embedding(const Tensor& ids, const Tensor& table, Tensor& out) {
  use_threads();
  cpu::embedding(ids, table, out);
}

void CpuBackend::add(const Tensor& a, const Tensor& b, Tensor& out) {
  use_threads();
  cpu::add(a, b, out);
}

void CpuBackend::mul(const Tensor& a, const Tensor& b, Tensor& out) {
  use_threads();
  cpu::mul(a, b, out);
}

void CpuBackend::scale(const Tensor& x, float s, Tensor& out) {
  use_threads();
  cpu::scale(x, s, out);
}

void CpuBackend::concat(std::span<const Tensor* const> parts, int axis, Tensor& out) {
  use_threads();
  cpu::concat(parts, axis, out);
}

void CpuBackend::slice(const Tensor& x, int axis, int64_t start, Tensor& out) {
  use_threads();
  cpu::slice(x, axis, start, out);
}

void CpuBackend::permute(const Tensor& x, std::span<const int> perm, Tensor& out) {
  use_threads();
  cpu::permute(x, perm, out);
}

void CpuBackend::patchify(const Tensor& img, int patch, Tensor& out) {
  use_threads();
  cpu::patchify(img, patch, out);
}

void CpuBackend::convert(const Tensor& x, Tensor& out) {
  use_threads();
  cpu::convert(x, out);
}

namespace {
// Any x86-64 machine can run this backend; CUDA scores higher so `auto` prefers a working GPU.
int cpu_score(char* /*reason*/, uint32_t /*reason_size*/) { return 1; }
}  // namespace

}  // namespace vlm::cpu

VLM_DEFINE_BACKEND_PLUGIN(vlm::cpu::CpuBackend, "cpu", "CPU: oneDNN matmuls, OpenMP kernels",
                          vlm::cpu::cpu_score)
