#pragma once
#include <memory>

#include "blip2_processor.hpp"
#include "blip2_vision.hpp"

namespace vlm::blip2 {

class Model final : public vlm::Model {
 public:
  explicit Model(const LoadContext& context);
  vlm::Processor& processor() override { return *processor_; }
  const vlm::ImageProcessor* image_processor() const override { return &processor_->image_processor(); }
  vlm::VisionEncoder* vision_encoder() override { return vision_.get(); }
  vlm::Connector* connector() override { return connector_.get(); }
  vlm::Decoder* decoder() override { return decoder_.get(); }

 private:
  std::unique_ptr<Processor> processor_;
  std::unique_ptr<VisionEncoder> vision_;
  std::unique_ptr<Connector> connector_;
  std::unique_ptr<vlm::Decoder> decoder_;  // OPT (decoder-only) or Flan-T5 (encoder-decoder)
};

}  // namespace vlm::blip2
