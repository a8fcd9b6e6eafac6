#pragma once
// The CUDA backend: one device, one stream, one cuBLAS handle, one caching allocator. Ops validate their
// arguments on the host (op_checks.hpp) and enqueue work on the stream; the host waits only in
// synchronize(), download() and copies that touch host memory.
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "device_allocator.hpp"
#include "kernels/kernels.hpp"
#include "op_checks.hpp"
#include "vlm/backend/backend.hpp"

namespace vlm::cuda {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const BackendOptions& options);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return "cuda"; }
  Device device() const override { return Device::cuda(device_index_); }
  std::string describe() const override { return description_; }
  nlohmann::json report(bool) const override { return {{"matmul_path", "cublas"}, {"device", description_}}; }
  bool supports(Op op, DType dtype) const override;
  void set_threads(int) override {}  // the GPU's parallelism is not a thread count

  // ---- memory (cuda_backend.cpp) ----
  Tensor empty(const Shape& shape, DType dtype) override;
  Tensor zeros(const Shape& shape, DType dtype) override;
  void copy(const Tensor& src, Tensor& dst) override;
  Tensor upload(const Tensor& host_tensor) override;
  Tensor download(const Tensor& t) override;
  void synchronize() override;

  // ---- ops (cuda_backend_ops.cpp) ----
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
  // The CUDA runtime's current device is per host thread, so every entry point selects ours first.
  void activate() const;
  void check_launch(cudaError_t status, std::string_view op) const;
  void binary(std::string_view op, BinaryOp kind, const Tensor& a, const Tensor& b, Tensor& out);
  void gather(std::string_view op, const PermutePlan& plan, const Tensor& x, Tensor& out);
  // `rows` rows of `width` bytes between pitched buffers on this device (concat, slice).
  void copy_rows(void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width, size_t rows);
  void release() noexcept;

  int device_index_;
  MemoryBudget budget_;
  std::string description_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  std::shared_ptr<DeviceAllocator> allocator_;
};

}  // namespace vlm::cuda
