#include "vlm/model/components.hpp"

#include "vlm/util/error.hpp"

namespace vlm {

const Tensor* ModelInputs::find(std::string_view name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

const Tensor& ModelInputs::at(std::string_view name) const {
  const Tensor* t = find(name);
  if (!t) fail("model inputs have no tensor '{}'", name);
  return *t;
}

}  // namespace vlm
