// The library's entry point: whether a usable CUDA device is present, and how to create the backend.
#include <cstdio>
#include <exception>
#include <string>

#include <fmt/format.h>

#include "cuda_backend.hpp"
#include "kernels/kernels.hpp"
#include "vlm/backend/backend_plugin.hpp"

namespace {

int refuse(char* reason, uint32_t reason_size, const std::string& why) {
  if (reason && reason_size) std::snprintf(reason, reason_size, "%s", why.c_str());
  return 0;
}

// Never throws and never aborts: without a driver cudaGetDeviceCount just returns an error.
int score_cuda(char* reason, uint32_t reason_size) {
  try {
    int count = 0;
    if (const cudaError_t status = cudaGetDeviceCount(&count); status != cudaSuccess)
      return refuse(reason, reason_size,
                    fmt::format("no CUDA device: cudaGetDeviceCount: {}", cudaGetErrorString(status)));
    if (count == 0) return refuse(reason, reason_size, "no CUDA device: cudaGetDeviceCount found none");
    // The library holds code for the architectures it was built for only; an older GPU would fail at its
    // first kernel launch, so it is reported here instead.
    if (const cudaError_t status = vlm::cuda::probe_kernel_image(); status != cudaSuccess)
      return refuse(reason, reason_size,
                    fmt::format("CUDA device 0 cannot run this build's kernels: {}", cudaGetErrorString(status)));
    return 100;  // above the CPU backend, so --device auto prefers a working GPU
  } catch (const std::exception& e) {
    return refuse(reason, reason_size, fmt::format("CUDA probe failed: {}", e.what()));
  }
}

}  // namespace

VLM_DEFINE_BACKEND_PLUGIN(vlm::cuda::CudaBackend, "cuda", "NVIDIA GPUs through CUDA kernels and cuBLAS", score_cuda)
