#include "vlm/nn/weights.hpp"

namespace vlm {

Tensor WeightLoader::load(const std::string& name, const Shape& expected) const {
  Tensor host = checkpoint_->tensor(name, expected);
  if (convert_to_ && *convert_to_ != host.dtype() && is_float(host.dtype())) host = host.to(*convert_to_);
  return backend_->upload(host);
}

Tensor WeightLoader::load_matrix(const std::string& name, const Shape& expected) const {
  if (!quantizes(expected)) return load(name, expected);
  return backend_->upload(quantized_->get(name, checkpoint_->tensor(name, expected)));
}

Tensor WeightLoader::matrix_from(const std::string& name, const Tensor& weight) const {
  if (!quantizes(weight.shape())) return weight;
  return backend_->upload(quantized_->get(name, backend_->download(weight)));
}

Tensor WeightLoader::load_optional(const std::string& name, const Shape& expected) const {
  if (!checkpoint_->has_tensor(name)) return Tensor();
  return load(name, expected);
}

Tensor WeightLoader::load_f32(const std::string& name, const Shape& expected) const {
  return backend_->upload(checkpoint_->tensor(name, expected).to(DType::F32));
}

float WeightLoader::scalar(const std::string& name) const {
  return float(checkpoint_->tensor(name, Shape{1}).to(DType::F32).item(0));
}

}  // namespace vlm
