#pragma once
#include <memory>

#include "vlm/model/image_token_processor.hpp"
#include "vipllava_vision.hpp"

namespace vlm::vipllava {

class Model final : public vlm::Model {
 public:
  explicit Model(const LoadContext& context);
  vlm::Processor& processor() override { return *processor_; }
  const vlm::ImageProcessor* image_processor() const override { return &processor_->image_processor(); }
  VisionEncoder* vision_encoder() override { return vision_.get(); }
  Connector* connector() override { return projector_.get(); }
  Decoder* decoder() override { return decoder_.get(); }

 private:
  std::unique_ptr<ImageTokenProcessor> processor_;
  std::unique_ptr<VisionTower> vision_;
  std::unique_ptr<Projector> projector_;
  std::unique_ptr<PlaceholderDecoder> decoder_;
};

}  // namespace vlm::vipllava
