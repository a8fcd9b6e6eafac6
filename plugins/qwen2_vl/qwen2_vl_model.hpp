#pragma once
#include <memory>

#include "qwen2_vl_decoder.hpp"
#include "qwen2_vl_processor.hpp"
#include "qwen2_vl_vision.hpp"

namespace vlm::qwen2_vl {

class Model final : public vlm::Model {
 public:
  explicit Model(const LoadContext& context);
  vlm::Processor& processor() override { return *processor_; }
  const vlm::ImageProcessor* image_processor() const override { return &processor_->image_processor(); }
  VisionEncoder* vision_encoder() override { return vision_.get(); }
  Connector* connector() override { return merger_.get(); }
  Decoder* decoder() override { return decoder_.get(); }

 private:
  std::unique_ptr<Processor> processor_;
  std::unique_ptr<VisionTower> vision_;
  std::unique_ptr<PatchMerger> merger_;
  std::unique_ptr<TextDecoder> decoder_;
};

}  // namespace vlm::qwen2_vl
