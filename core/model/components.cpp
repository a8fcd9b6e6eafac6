#include "vlm/model/components.hpp"

#include "vlm/util/error.hpp"

namespace vlm {

const Tensor* ModelInputs::find(std::string_view name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

void record_inputs(const ModelInputs& inputs, Trace* trace) {
  if (!trace) return;
  for (const auto& [name, t] : inputs.tensors)
    if (trace->wants(name)) trace->record(name, t);
}

const Tensor& ModelInputs::at(std::string_view name) const {
  const Tensor* t = find(name);
  if (!t) fail("model inputs have no tensor '{}'", name);
  return *t;
}

}  // namespace vlm
