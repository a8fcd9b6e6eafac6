#include "mllama_model.hpp"

namespace vlm::mllama {

Model::Model(const LoadContext& context) {
  const Checkpoint& checkpoint = *context.checkpoint;
  const Config config = Config::from(checkpoint.config());
  Backend& backend = *context.backend;
  const WeightLoader weights = weight_loader(context);
  if (!context.options.processor_overrides.is_null() && !context.options.processor_overrides.empty())
    fail("mllama: the image processor takes no overrides (got {})", context.options.processor_overrides.dump());
  processor_ = std::make_unique<Processor>(checkpoint, config.text_only ? -1 : config.image_token_index);
  decoder_ = std::make_unique<Decoder>(config, weights, backend);
  if (config.text_only) return;  // MllamaForCausalLM: text in, text out
  if (processor_->image_processor().config().max_image_tiles != config.vision.max_num_tiles)
    fail("{}: max_image_tiles {} differs from the vision model's max_num_tiles {}", checkpoint.dir().string(),
         processor_->image_processor().config().max_image_tiles, config.vision.max_num_tiles);
  if (processor_->image_processor().config().tile != config.vision.image_size)
    fail("{}: tiles of {}px, but the vision model's image_size is {}", checkpoint.dir().string(),
         processor_->image_processor().config().tile, config.vision.image_size);
  vision_ = std::make_unique<VisionEncoder>(config, weights, backend);
  connector_ = std::make_unique<Connector>(config, weights, backend);
}

}  // namespace vlm::mllama
