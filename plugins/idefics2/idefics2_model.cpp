#include "idefics2_model.hpp"

namespace vlm::idefics2 {

Model::Model(const LoadContext& context) {
  const Checkpoint& checkpoint = *context.checkpoint;
  const Config config = Config::from(checkpoint.config());
  Backend& backend = *context.backend;
  const WeightLoader weights = weight_loader(context);
  processor_ = std::make_unique<Processor>(checkpoint, context.options.processor_overrides);
  vision_ = std::make_unique<VisionEncoder>(config, weights, backend);
  connector_ = std::make_unique<Connector>(config, weights, backend);
  decoder_ = std::make_unique<PlaceholderDecoder>(config.text, config.text_model(), config.image_token_id, weights,
                                                  backend);
}

}  // namespace vlm::idefics2
