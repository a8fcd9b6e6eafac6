#pragma once
// Turns CUDA runtime and cuBLAS status codes into vlm::Error naming the failed call.
#include <string_view>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

namespace vlm::cuda {

// Throws vlm::Error("CUDA call <call> failed: <message> (<code name>)") unless `status` is success.
void check_cuda(cudaError_t status, std::string_view call);
void check_cublas(cublasStatus_t status, std::string_view call);

}  // namespace vlm::cuda
