#pragma once
// A Model made of a decoder alone, for tests that drive a language model with the fixture's own image
// features (the vision side of those families is tested apart): no processor, no vision encoder.
#include <memory>

#include "vlm/model/family.hpp"
#include "vlm/util/error.hpp"

namespace vlm::test {

class DecoderOnlyModel final : public Model {
 public:
  explicit DecoderOnlyModel(std::unique_ptr<Decoder> decoder) : decoder_(std::move(decoder)) {}
  Processor& processor() override { return processor_; }
  Decoder* decoder() override { return decoder_.get(); }

 private:
  // Generation decodes text for its stream; these tests compare ids and tensors, not text.
  class NoText final : public Processor {
   public:
    ModelInputs prepare(std::span<const Prompt>) const override { fail("a decoder-only test model has no processor"); }
    std::string decode(std::span<const int64_t>, bool) const override { return {}; }
  };
  NoText processor_;
  std::unique_ptr<Decoder> decoder_;
};

}  // namespace vlm::test
