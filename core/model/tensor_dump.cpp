#include "vlm/model/tensor_dump.hpp"

#include "vlm/io/safetensors.hpp"

namespace vlm {

void TensorDump::record(std::string_view name, const Tensor& tensor) {
  backend_->synchronize();
  // Always an owned host copy: the recorded tensor may be a workspace buffer that is reused later.
  Tensor host = tensor.is_host() ? tensor.clone() : backend_->download(tensor).clone();
  tensors_.insert_or_assign(std::string(name), std::move(host));
}

const Tensor* TensorDump::find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::filesystem::path TensorDump::write(const std::filesystem::path& dir) const {
  std::filesystem::create_directories(dir);
  std::vector<std::pair<std::string, Tensor>> list(tensors_.begin(), tensors_.end());
  const auto path = dir / "tensors.safetensors";
  write_safetensors(path, list, {{"producer", "vlm run --dump"}});
  return path;
}

}  // namespace vlm
