#pragma once
// The compute interface. Backends live in their own shared libraries (libvlm_backend_cpu.so,
// libvlm_backend_cuda.so) and are chosen at load time; models only ever talk to this class.
//
// Conventions for every op:
//  * tensors are contiguous and row-major; `out` is preallocated by the caller (backend.empty) with the
//    documented shape and is never aliased with an input unless the op says so;
//  * activations are f32 unless stated; weights may be f32, bf16 or f16 and stay in their stored dtype;
//  * "rows" means the product of all dimensions but the last.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vlm/backend/memory_budget.hpp"
#include "vlm/backend/ops.hpp"
#include "vlm/tensor/tensor.hpp"

namespace vlm {

struct AttentionParams {
  float scale = 1.0f;       // usually 1/sqrt(head_dim)
  bool causal = false;      // query i (absolute position q_offset+i) sees keys 0..q_offset+i
  int64_t q_offset = 0;     // absolute position of the first query row (decode with a KV cache)
  int64_t kv_len = -1;      // keys/values actually valid along their sequence axis; -1 = all
  // > 0 (causal only): query at absolute position p sees keys (p - window, p] only (Mistral's sliding window).
  int64_t window = 0;
  // Optional [B, kv_capacity] u8 mask: 1 = key may be attended, 0 = padding. Rows of a query whose keys
  // are all masked produce zeros.
  const Tensor* key_mask = nullptr;
  // Optional f32 additive mask, broadcast as [B or 1, H or 1, Sq, Sk] (Sk = kv_len) and added to scores.
  const Tensor* additive_mask = nullptr;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;  // "cpu", "cuda"
  virtual Device device() const = 0;
  virtual std::string describe() const = 0;  // one line: ISA / device name, threads
  // Facts for benchmark reports, one JSON object: how this backend computes on this machine (the CPU's
  // matmul path and why, ISA, measured FMA and dot-product peaks) and "matmul_weight_bytes", the bytes of
  // weights multiplied so far (the memory traffic decode is bound by). With measure_bandwidth, also
  // "read_bandwidth_gbs" from a probe taking about a second. Backends without such facts return {}.
  virtual nlohmann::json report(bool measure_bandwidth) const {
    (void)measure_bandwidth;
    return nlohmann::json::object();
  }
  // Whether `op` is implemented for weights (or inputs) of `dtype`.
  virtual bool supports(Op op, DType dtype) const = 0;
  virtual void set_threads(int threads) = 0;

  // ---- memory ----
  virtual Tensor empty(const Shape& shape, DType dtype) = 0;   // uninitialised, on this device
  virtual Tensor zeros(const Shape& shape, DType dtype) = 0;
  // Copy between any two tensors of equal shape and dtype where one is on this device and the other on
  // this device or the host.
  virtual void copy(const Tensor& src, Tensor& dst) = 0;
  // A weight made usable by this backend: on the CPU the same (memory-mapped) tensor, elsewhere a copy.
  virtual Tensor upload(const Tensor& host_tensor) = 0;
  // A host tensor with the contents of `t` (a no-op view on the CPU).
  virtual Tensor download(const Tensor& t) = 0;
  virtual void synchronize() = 0;

  // ---- linear algebra ----
  // x [rows, K] (any leading dims), w [N, K] (torch Linear layout) or [K, N] when !w_transposed,
  // bias [N] or null; out [rows, N] f32. x may be f32 or the weight's dtype.
  virtual void matmul(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out,
                      bool w_transposed = true) = 0;
  // q [B, Sq, Hq, D]; k, v [B, Skv_capacity, Hkv, D] with Hq % Hkv == 0 (grouped-query heads);
  // out [B, Sq, Hq, Dv]. Cross-attention is the same call with k/v from another sequence.
  virtual void attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out,
                         const AttentionParams& params) = 0;

  // ---- normalisation and activations ----
  virtual void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& out) = 0;
  // bias may be null (LayerNorm without bias).
  virtual void layer_norm(const Tensor& x, const Tensor& weight, const Tensor* bias, float eps,
                          Tensor& out) = 0;
  virtual void activation(Activation kind, const Tensor& x, Tensor& out) = 0;  // in-place allowed
  // out = act(gate) * up, all [rows, N]; in-place into gate allowed.
  virtual void gated_activation(Activation kind, const Tensor& gate, const Tensor& up, Tensor& out) = 0;
  virtual void softmax(const Tensor& x, Tensor& out) = 0;  // over the last dim; in-place allowed

  // ---- positions ----
  // x [B, S, H, D]; cos, sin [B or 1, S, D] in the Hugging Face "rotate_half" convention
  // (x*cos + rotate_half(x)*sin). Only the first cos.dim(-1) channels are rotated (partial rotary);
  // the rest pass through. In-place allowed.
  virtual void rotary(const Tensor& x, const Tensor& cos, const Tensor& sin, Tensor& out) = 0;

  // ---- lookup and elementwise ----
  // ids [N] i32/i64, table [V, D] any float dtype -> out [N, D] f32. An id outside [0, V) is an Error.
  virtual void embedding(const Tensor& ids, const Tensor& table, Tensor& out) = 0;
  // out = a + b, b broadcast over a's leading dims (b.numel() divides a.numel()). In-place allowed.
  virtual void add(const Tensor& a, const Tensor& b, Tensor& out) = 0;
  virtual void mul(const Tensor& a, const Tensor& b, Tensor& out) = 0;
  // out = x * s. In-place allowed.
  virtual void scale(const Tensor& x, float s, Tensor& out) = 0;

  // ---- layout ----
  virtual void concat(std::span<const Tensor* const> parts, int axis, Tensor& out) = 0;
  virtual void slice(const Tensor& x, int axis, int64_t start, Tensor& out) = 0;  // length = out.dim(axis)
  virtual void permute(const Tensor& x, std::span<const int> perm, Tensor& out) = 0;
  // img [B, C, H, W] -> out [B, (H/p)*(W/p), C*p*p], patches row-major over the grid, channel-major inside
  // (the flattening of a Conv2d weight [O, C, p, p]). H and W must be multiples of p.
  virtual void patchify(const Tensor& img, int patch, Tensor& out) = 0;
  virtual void convert(const Tensor& x, Tensor& out) = 0;  // dtype conversion, same shape
};

// Options the host passes when it creates a backend.
struct BackendOptions {
  int threads = 0;      // 0 = backend default (all cores)
  int device_index = 0;
  // Working memory the backend may hold at once (MemoryBudget); kDefaultMemoryBudget = the backend's
  // default (the CPU's: physical memory less an eighth), 0 = no limit.
  size_t memory_budget_bytes = kDefaultMemoryBudget;
};

}  // namespace vlm
