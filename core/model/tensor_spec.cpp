#include "vlm/model/tensor_spec.hpp"

namespace vlm {

void add_linear(std::vector<TensorSpec>& specs, const std::string& prefix, int64_t in, int64_t out, bool bias,
                std::string_view separator) {
  const std::string stem = prefix + std::string(separator);
  specs.push_back({stem + "weight", Shape{out, in}});
  if (bias) specs.push_back({stem + "bias", Shape{out}});
}

void add_norm(std::vector<TensorSpec>& specs, const std::string& prefix, int64_t dim, bool bias) {
  specs.push_back({prefix + ".weight", Shape{dim}, false, Init::Norm});
  if (bias) specs.push_back({prefix + ".bias", Shape{dim}, false, Init::Bias});
}

}  // namespace vlm
