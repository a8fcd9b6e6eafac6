#pragma once
// A Trace that keeps host copies of every recorded tensor and writes them as one safetensors file
// (`vlm run --dump DIR`), named as the Hugging Face fixtures name them (input_ids, pixel_values,
// vision_encoder_output, image_features, inputs_embeds, logits, generated_ids, ...).
#include <filesystem>
#include <map>
#include <string>

#include "vlm/backend/backend.hpp"
#include "vlm/model/components.hpp"

namespace vlm {

class TensorDump final : public Trace {
 public:
  explicit TensorDump(Backend& backend) : backend_(&backend) {}
  bool wants(std::string_view) const override { return true; }
  void record(std::string_view name, const Tensor& tensor) override;  // a later record replaces an earlier one
  const std::map<std::string, Tensor, std::less<>>& tensors() const { return tensors_; }
  const Tensor* find(std::string_view name) const;
  // Writes DIR/tensors.safetensors (creating DIR).
  std::filesystem::path write(const std::filesystem::path& dir) const;

 private:
  Backend* backend_;
  std::map<std::string, Tensor, std::less<>> tensors_;
};

}  // namespace vlm
