#pragma once
#include <memory>

#include "mllama_decoder.hpp"
#include "mllama_processor.hpp"
#include "mllama_vision.hpp"

namespace vlm::mllama {

class Model final : public vlm::Model {
 public:
  explicit Model(const LoadContext& context);
  vlm::Processor& processor() override { return *processor_; }
  const vlm::ImageProcessor* image_processor() const override {
    return vision_ ? &processor_->image_processor() : nullptr;
  }
  vlm::VisionEncoder* vision_encoder() override { return vision_.get(); }
  vlm::Connector* connector() override { return connector_.get(); }
  vlm::Decoder* decoder() override { return decoder_.get(); }
  // A batch's states hold every image slot of every row, padding images included.
  bool features_per_image() const override { return false; }

 private:
  std::unique_ptr<Processor> processor_;
  std::unique_ptr<VisionEncoder> vision_;
  std::unique_ptr<Connector> connector_;
  std::unique_ptr<Decoder> decoder_;
};

}  // namespace vlm::mllama
