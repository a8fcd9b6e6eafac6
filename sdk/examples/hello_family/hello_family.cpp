// The smallest complete model-family plugin. It declares the tensors of a one-layer toy model, so the
// host can validate checkpoints against it and `vlm synth --family hello` can write one.
#include "vlm/sdk.hpp"

namespace hello {

class Family final : public vlm::ModelFamily {
 public:
  std::vector<vlm::TensorSpec> expected_tensors(const vlm::ConfigView& config) const override {
    const int64_t hidden = config.get_or<int64_t>("hidden_size", 16);  // HF-style default when absent
    const int64_t vocab = config.get<int64_t>("vocab_size");
    std::vector<vlm::TensorSpec> specs{{"embed_tokens.weight", vlm::Shape{vocab, hidden}}};
    vlm::add_norm(specs, "norm", hidden, /*bias=*/false);
    return specs;
  }
  std::vector<vlm::Op> required_ops(const vlm::ConfigView&) const override {
    return {vlm::Op::Embedding, vlm::Op::RmsNorm, vlm::Op::Matmul};
  }
  std::unique_ptr<vlm::Model> load(const vlm::LoadContext& context) const override {
    vlm::fail("{}: hello is a declaration-only example family", context.checkpoint->dir().string());
  }
  std::vector<std::string> synth_sizes() const override { return {"tiny"}; }
  vlm::SynthRecipe synth_recipe(std::string_view) const override {
    vlm::SynthRecipe recipe;
    recipe.merges = 8;
    recipe.special_tokens = {"<|end|>"};
    recipe.config = {{"model_type", "hello"}, {"hidden_size", 16}, {"vocab_size", 320}};
    return recipe;
  }
};

}  // namespace hello

VLM_DEFINE_MODEL_PLUGIN(hello::Family, "hello", "1.0.0", "out-of-tree example family", "hello")
