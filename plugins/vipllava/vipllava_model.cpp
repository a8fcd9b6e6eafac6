#include "vipllava_model.hpp"

namespace vlm::vipllava {

Model::Model(const LoadContext& context) {
  const Checkpoint& checkpoint = *context.checkpoint;
  const Config config = Config::from(checkpoint.config());
  Backend& backend = *context.backend;
  const WeightLoader weights = weight_loader(context);
  if (!context.options.processor_overrides.is_null() && !context.options.processor_overrides.empty())
    fail("vipllava: the image processor takes no overrides (got {})", context.options.processor_overrides.dump());
  processor_ = std::make_unique<ImageTokenProcessor>(checkpoint, config.vision.num_patches(), "VipLlava");
  vision_ = std::make_unique<VisionTower>(config, weights, backend);
  projector_ = std::make_unique<Projector>(config, weights, backend);
  decoder_ = std::make_unique<PlaceholderDecoder>(config.text, config.text_model(), config.image_token_index, weights,
                                                  backend);
}

}  // namespace vlm::vipllava
