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

namespace {
[[noreturn]] void no_retrieval() { fail("this model cannot retrieve: its scorer has no retrieval method"); }
}  // namespace

std::vector<std::unique_ptr<Encoding>> Scorer::encode_images(std::string_view, std::span<const Image>) {
  no_retrieval();
}
std::vector<std::unique_ptr<Encoding>> Scorer::encode_texts(std::string_view, std::span<const std::string>) {
  no_retrieval();
}
Tensor Scorer::score_pairs(std::string_view, std::span<const Encoding* const>, std::span<const Encoding* const>) {
  no_retrieval();
}

}  // namespace vlm
