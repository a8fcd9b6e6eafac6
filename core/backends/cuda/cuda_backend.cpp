// CudaBackend: lifetime, capabilities and memory.
#include "cuda_backend.hpp"

#include <fmt/format.h>

#include "cuda_status.hpp"
#include "vlm/util/error.hpp"

namespace vlm::cuda {

// The default budget is none: the device's own allocation failure already names the size.
CudaBackend::CudaBackend(const BackendOptions& options)
    : device_index_(options.device_index),
      budget_(options.memory_budget_bytes == kDefaultMemoryBudget ? 0 : options.memory_budget_bytes,
              fmt::format("cuda:{}", options.device_index)) {
  int count = 0;
  check_cuda(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  if (device_index_ < 0 || device_index_ >= count)
    fail("cuda: device index {} is out of range ({} CUDA device(s) present)", device_index_, count);
  try {
    activate();
    cudaDeviceProp props{};
    check_cuda(cudaGetDeviceProperties(&props, device_index_), "cudaGetDeviceProperties");
    int runtime_version = 0;
    check_cuda(cudaRuntimeGetVersion(&runtime_version), "cudaRuntimeGetVersion");
    description_ = fmt::format("{} (cuda:{}, sm_{}{}, {:.1f} GiB), CUDA runtime {}.{}", props.name, device_index_,
                               props.major, props.minor, double(props.totalGlobalMem) / double(1ull << 30),
                               runtime_version / 1000, runtime_version % 1000 / 10);
    // Non-blocking: the legacy default stream, used by other libraries, must not serialise with ours.
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    check_cublas(cublasCreate(&cublas_), "cublasCreate");
    check_cublas(cublasSetStream(cublas_, stream_), "cublasSetStream");
    allocator_ = DeviceAllocator::create(device_index_);
  } catch (...) {
    release();
    throw;
  }
}

CudaBackend::~CudaBackend() { release(); }

void CudaBackend::release() noexcept {
  // Errors are ignored: nothing useful can be done about them while tearing down.
  if (cudaSetDevice(device_index_) != cudaSuccess) return;
  if (stream_) (void)cudaStreamSynchronize(stream_);
  if (cublas_) (void)cublasDestroy(cublas_);
  if (stream_) (void)cudaStreamDestroy(stream_);
  cublas_ = nullptr;
  stream_ = nullptr;
}

void CudaBackend::activate() const { check_cuda(cudaSetDevice(device_index_), "cudaSetDevice"); }

void CudaBackend::check_launch(cudaError_t status, std::string_view op) const {
  if (status != cudaSuccess)
    fail("cuda: {} kernel launch failed: {} ({})", op, cudaGetErrorString(status), cudaGetErrorName(status));
}

bool CudaBackend::supports(Op op, DType dtype) const {
  switch (op) {
    // The dtype is the weight's (or table's, or b's): any float type, read as f32 in the kernels.
    case Op::Matmul:
    case Op::RmsNorm:
    case Op::LayerNorm:
    case Op::Embedding:
    case Op::Add:
    case Op::Mul:
    case Op::Convert:
      return is_float(dtype);
    // Activations are f32 only.
    case Op::Attention:
    case Op::Activation:
    case Op::GatedActivation:
    case Op::Softmax:
    case Op::Rotary:
    case Op::Scale:
      return dtype == DType::F32;
    // Byte movers: every dtype.
    case Op::Concat:
    case Op::Slice:
    case Op::Permute:
    case Op::Patchify:
      return true;
    case Op::kCount:
      break;
  }
  return false;
}

Tensor CudaBackend::empty(const Shape& shape, DType dtype) {
  activate();
  const size_t bytes = storage_bytes(shape, dtype);
  std::shared_ptr<const void> charge = budget_.charge(bytes, shape, dtype);
  std::shared_ptr<void> block = allocator_->allocate(bytes);
  void* data = block.get();
  std::shared_ptr<void> owner(data, [block = std::move(block), charge = std::move(charge)](void*) {});
  return Tensor::borrow(data, shape, dtype, device(), std::move(owner));
}

Tensor CudaBackend::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  if (t.nbytes()) check_cuda(cudaMemsetAsync(t.raw(), 0, t.nbytes(), stream_), "cudaMemsetAsync");
  return t;
}

void CudaBackend::copy(const Tensor& src, Tensor& dst) {
  check_copy(device(), src, dst);
  if (src.nbytes() == 0) return;
  activate();
  const cudaMemcpyKind kind = src.is_host()   ? cudaMemcpyHostToDevice
                              : dst.is_host() ? cudaMemcpyDeviceToHost
                                              : cudaMemcpyDeviceToDevice;
  check_cuda(cudaMemcpyAsync(dst.raw(), src.raw(), src.nbytes(), kind, stream_), "cudaMemcpyAsync");
  // Host memory may be read, reused or freed by the caller as soon as copy() returns.
  if (kind != cudaMemcpyDeviceToDevice) synchronize();
}

Tensor CudaBackend::upload(const Tensor& host_tensor) {
  if (host_tensor.defined() && host_tensor.device() == device()) return host_tensor;
  Tensor t = empty(host_tensor.shape(), host_tensor.dtype());
  copy(host_tensor, t);
  return t;
}

Tensor CudaBackend::download(const Tensor& t) {
  if (t.defined() && t.is_host()) return t;
  Tensor host = Tensor::zeros(t.shape(), t.dtype());
  copy(t, host);
  return host;
}

void CudaBackend::synchronize() {
  activate();
  check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

}  // namespace vlm::cuda
