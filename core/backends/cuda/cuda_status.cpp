#include "cuda_status.hpp"

#include "vlm/util/error.hpp"

namespace vlm::cuda {

void check_cuda(cudaError_t status, std::string_view call) {
  if (status == cudaSuccess) return;
  fail("CUDA call {} failed: {} ({})", call, cudaGetErrorString(status), cudaGetErrorName(status));
}

void check_cublas(cublasStatus_t status, std::string_view call) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  fail("cuBLAS call {} failed: {} ({})", call, cublasGetStatusString(status), cublasGetStatusName(status));
}

}  // namespace vlm::cuda
