#pragma once
// The CPU backend: host memory, oneDNN matmuls, OpenMP loops for the rest (cpu_ops.hpp).
#include <atomic>

#include "matmul_onednn.hpp"
#include "vlm/backend/backend.hpp"

namespace vlm::cpu {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const BackendOptions& options);

  std::string name() const override { return "cpu"; }
  Device device() const override { return Device::cpu(); }
  std::string describe() const override;
  nlohmann::json report(bool measure_bandwidth) const override;
  bool supports(Op op, DType dtype) const override;
  void set_threads(int threads) override;

  Tensor empty(const Shape& shape, DType dtype) override;
  Tensor zeros(const Shape& shape, DType dtype) override;
  void copy(const Tensor& src, Tensor& dst) override;
  Tensor upload(const Tensor& host_tensor) override;
  Tensor download(const Tensor& t) override;
  void synchronize() override {}

  void matmul(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& out, bool w_transposed) override;
  void attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out,
                 const AttentionParams& params) override;
  void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor& out) override;
  void layer_norm(const Tensor& x, const Tensor& weight, const Tensor* bias, float eps, Tensor& out) override;
  void activation(Activation kind, const Tensor& x, Tensor& out) override;
  void gated_activation(Activation kind, const Tensor& gate, const Tensor& up, Tensor& out) override;
  void softmax(const Tensor& x, Tensor& out) override;
  void rotary(const Tensor& x, const Tensor& cos, const Tensor& sin, Tensor& out) override;
  void embedding(const Tensor& ids, const Tensor& table, Tensor& out) override;
  void add(const Tensor& a, const Tensor& b, Tensor& out) override;
  void mul(const Tensor& a, const Tensor& b, Tensor& out) override;
  void scale(const Tensor& x, float s, Tensor& out) override;
  void concat(std::span<const Tensor* const> parts, int axis, Tensor& out) override;
  void slice(const Tensor& x, int axis, int64_t start, Tensor& out) override;
  void permute(const Tensor& x, std::span<const int> perm, Tensor& out) override;
  void patchify(const Tensor& img, int patch, Tensor& out) override;
  void convert(const Tensor& x, Tensor& out) override;

 private:
  // OpenMP's thread count is per calling thread; re-applied on entry so ops called from another thread
  // than set_threads() still use the configured count.
  void use_threads() const;

  int threads_ = 1;
  MemoryBudget budget_;
  OnednnMatmul matmul_;
  std::atomic<uint64_t> matmul_weight_bytes_{0};
};

}  // namespace vlm::cpu
