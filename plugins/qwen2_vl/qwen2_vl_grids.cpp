#include "qwen2_vl_grids.hpp"

#include "vlm/util/error.hpp"

namespace vlm::qwen2_vl {

std::vector<Grid> read_grids(const TensorMap& tensors, std::string_view name) {
  std::vector<Grid> grids;
  auto it = tensors.find(name);
  if (it == tensors.end()) return grids;
  const Tensor& g = it->second;
  if (g.rank() != 2 || g.dim(1) != 3 || g.dtype() != DType::I64)
    fail("{} must be [n, 3] i64, got {} {}", name, dtype_name(g.dtype()), g.shape().str());
  for (int64_t i = 0; i < g.dim(0); ++i)
    grids.push_back({g.data<int64_t>()[3 * i], g.data<int64_t>()[3 * i + 1], g.data<int64_t>()[3 * i + 2]});
  return grids;
}

}  // namespace vlm::qwen2_vl
