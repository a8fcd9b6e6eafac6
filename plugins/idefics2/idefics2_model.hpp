#pragma once
#include <memory>

#include "idefics2_processor.hpp"
#include "idefics2_vision.hpp"

namespace vlm::idefics2 {

class Model final : public vlm::Model {
 public:
  explicit Model(const LoadContext& context);
  vlm::Processor& processor() override { return *processor_; }
  const vlm::ImageProcessor* image_processor() const override { return &processor_->image_processor(); }
  vlm::VisionEncoder* vision_encoder() override { return vision_.get(); }
  vlm::Connector* connector() override { return connector_.get(); }
  Decoder* decoder() override { return decoder_.get(); }

 private:
  std::unique_ptr<Processor> processor_;
  std::unique_ptr<VisionEncoder> vision_;
  std::unique_ptr<Connector> connector_;
  std::unique_ptr<PlaceholderDecoder> decoder_;
};

}  // namespace vlm::idefics2
