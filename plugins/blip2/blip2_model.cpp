#include "blip2_model.hpp"

#include "blip2_opt.hpp"

namespace vlm::blip2 {

Model::Model(const LoadContext& context) {
  const Checkpoint& checkpoint = *context.checkpoint;
  const Config config = Config::from(checkpoint.config());
  Backend& backend = *context.backend;
  const WeightLoader weights = weight_loader(context);
  if (!context.options.processor_overrides.is_null() && !context.options.processor_overrides.empty())
    fail("blip-2: the image processor takes no overrides (got {})", context.options.processor_overrides.dump());
  processor_ = std::make_unique<Processor>(checkpoint, config);
  vision_ = std::make_unique<VisionEncoder>(config, weights, backend);
  connector_ = std::make_unique<Connector>(config, weights, backend);
  if (config.encoder_decoder)
    decoder_ = std::make_unique<T5PlaceholderDecoder>(config.t5, "language_model", config.image_token_index, weights,
                                                      backend);
  else
    decoder_ = std::make_unique<OptDecoder>(config, weights, backend);
}

}  // namespace vlm::blip2
