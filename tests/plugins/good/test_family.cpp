// A minimal, complete model-family plugin built exactly as a third party would: it includes only the
// SDK and uses the entry macro. It declares three tensors so synth and validation can be tested.
#include "vlm/sdk.hpp"

namespace {

class TestFamily final : public vlm::ModelFamily {
 public:
  std::vector<vlm::TensorSpec> expected_tensors(const vlm::ConfigView& config) const override {
    const int64_t hidden = config.get<int64_t>("hidden_size");
    const int64_t vocab = config.get<int64_t>("vocab_size");
    std::vector<vlm::TensorSpec> specs;
    specs.push_back({"embed.weight", vlm::Shape{vocab, hidden}});
    vlm::add_linear(specs, "proj", hidden, hidden, true);
    vlm::add_norm(specs, "norm", hidden, false);
    specs.push_back({"head.weight", vlm::Shape{vocab, hidden}, /*optional=*/true});
    return specs;
  }
  std::vector<vlm::Op> required_ops(const vlm::ConfigView&) const override {
    return {vlm::Op::Embedding, vlm::Op::Matmul, vlm::Op::RmsNorm};
  }
  std::unique_ptr<vlm::Model> load(const vlm::LoadContext& context) const override {
    vlm::fail("{}: generation not implemented yet for this family (vlm_test)", context.checkpoint->dir().string());
  }
  std::string summarize(const vlm::ConfigView& config) const override {
    return fmt::format("hidden {}", config.get<int64_t>("hidden_size"));
  }
  std::vector<std::string> synth_sizes() const override { return {"tiny"}; }
  vlm::SynthRecipe synth_recipe(std::string_view size) const override {
    if (size != "tiny") vlm::fail("vlm_test: unknown size '{}'", size);
    vlm::SynthRecipe recipe;
    recipe.merges = 16;
    recipe.special_tokens = {"<s>", "</s>", "<image>"};
    recipe.config = {{"model_type", "vlm_test"}, {"hidden_size", 8}, {"vocab_size", 320}};
    recipe.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}";
    return recipe;
  }
};

}  // namespace

VLM_DEFINE_MODEL_PLUGIN(TestFamily, "vlm_test", "1.2.3", "test family for the plugin loader", "vlm_test", "vlm_test_alias")
