// LLaVA-1.5 (transformers' LlavaForConditionalGeneration, v4.47.1) as a third-party plugin, built only
// from the SDK's shared blocks: CLIP image processing and vision tower, LlavaProcessor's image-token
// expansion, and a Llama decoder whose image features replace the <image> embeddings. What is LLaVA's
// own is the feature selection (vision_feature_layer, vision_feature_select_strategy) and the two-layer
// projector.
#include "vlm/model/image_token_processor.hpp"
#include "vlm/nn/clip_vision.hpp"
#include "vlm/nn/llama.hpp"
#include "vlm/sdk.hpp"

namespace llava {

using namespace vlm;

// LlavaConfig's defaults for absent keys.
struct Config {
  int64_t image_token_index = 32000;
  std::string projector_hidden_act = "gelu";
  std::vector<int64_t> feature_layers{-2};  // vision_feature_layer: an index or a list (concatenated)
  bool drop_class_token = true;             // vision_feature_select_strategy: "default" (drop) or "full"
  ClipVisionConfig vision;
  LlamaConfig text;

  static Config from(const ConfigView& view) {
    Config c;
    c.image_token_index = view.get_or("image_token_index", c.image_token_index);
    c.projector_hidden_act = view.get_or<std::string>("projector_hidden_act", c.projector_hidden_act);
    if (view.has("vision_feature_layer"))
      c.feature_layers = view.json()["vision_feature_layer"].is_array()
                             ? view.get<std::vector<int64_t>>("vision_feature_layer")
                             : std::vector<int64_t>{view.get<int64_t>("vision_feature_layer")};
    const auto strategy = view.get_or<std::string>("vision_feature_select_strategy", "default");
    if (strategy != "default" && strategy != "full")
      fail("{}: must be \"default\" or \"full\", found \"{}\"", view.where("vision_feature_select_strategy"), strategy);
    c.drop_class_token = strategy == "default";
    // Without a vision_config LlavaConfig builds CLIP ViT-L/14-336.
    ClipVisionConfig defaults;
    if (!view.has("vision_config")) defaults = {1024, 4096, 24, 16, 3, 336, 14, "quick_gelu", 1e-5};
    c.vision = ClipVisionConfig::from(view.child("vision_config"), defaults);
    c.text = LlamaConfig::from(view.child("text_config"));
    if (c.feature_layers.empty()) fail("{}: names no layer", view.where("vision_feature_layer"));
    for (int64_t& layer : c.feature_layers) layer = c.vision.resolve_layer(layer, view.where("vision_feature_layer"));
    if (c.image_token_index < 0 || c.image_token_index >= c.text.vocab_size)
      fail("{}: {} is outside the vocabulary of {}", view.where("image_token_index"), c.image_token_index,
           c.text.vocab_size);
    return c;
  }
  int64_t projector_input() const { return int64_t(feature_layers.size()) * vision.hidden_size; }
  int64_t tokens_per_image() const { return vision.num_patches() + (drop_class_token ? 0 : 1); }
  TextModelConfig text_model() const { return text.text_model("language_model.model", "language_model.lm_head"); }
};

class Vision final : public VisionEncoder {
 public:
  Vision(const Config& c, const WeightLoader& w, Backend& backend)
      : config_(c), backend_(&backend), tower_(ClipVisionTower::load(w, "vision_tower.vision_model", c.vision)) {}
  Tensor encode(const ModelInputs& inputs, Trace* trace) override {
    return tower_.hidden_states(*backend_, inputs.at("pixel_values"), config_.feature_layers, config_.drop_class_token,
                                trace);
  }

 private:
  Config config_;
  Backend* backend_;
  ClipVisionTower tower_;
};

// multi_modal_projector: Linear, activation, Linear; [images, tokens, in] -> [images * tokens, text hidden].
class Projector final : public Connector {
 public:
  Projector(const Config& c, const WeightLoader& w, Backend& backend)
      : backend_(&backend), activation_(activation_from_name(c.projector_hidden_act)) {
    linear_1_ = Linear::load(w, "multi_modal_projector.linear_1", c.projector_input(), c.text.hidden_size, true);
    linear_2_ = Linear::load(w, "multi_modal_projector.linear_2", c.text.hidden_size, c.text.hidden_size, true);
  }
  Tensor project(const Tensor& states, const ModelInputs&, Trace* trace) override {
    const int64_t rows = states.numel() / linear_1_.in;
    Tensor hidden = backend_->empty(Shape{rows, linear_1_.out}, DType::F32);
    linear_1_.forward(*backend_, states, hidden);
    backend_->activation(activation_, hidden, hidden);
    Tensor features = backend_->empty(Shape{rows, linear_2_.out}, DType::F32);
    linear_2_.forward(*backend_, hidden, features);
    if (trace && trace->wants("image_features")) trace->record("image_features", features);
    return features;
  }

 private:
  Backend* backend_;
  Activation activation_;
  Linear linear_1_, linear_2_;
};

class Model final : public vlm::Model {
 public:
  explicit Model(const LoadContext& context) {
    const Config c = Config::from(context.checkpoint->config());
    const WeightLoader w = weight_loader(context);
    processor_ = std::make_unique<ImageTokenProcessor>(*context.checkpoint, c.tokens_per_image(), "LLaVA");
    vision_ = std::make_unique<Vision>(c, w, *context.backend);
    projector_ = std::make_unique<Projector>(c, w, *context.backend);
    decoder_ = std::make_unique<PlaceholderDecoder>(c.text, c.text_model(), c.image_token_index, w, *context.backend);
  }
  vlm::Processor& processor() override { return *processor_; }
  const ImageProcessor* image_processor() const override { return &processor_->image_processor(); }
  VisionEncoder* vision_encoder() override { return vision_.get(); }
  Connector* connector() override { return projector_.get(); }
  Decoder* decoder() override { return decoder_.get(); }

 private:
  std::unique_ptr<ImageTokenProcessor> processor_;
  std::unique_ptr<Vision> vision_;
  std::unique_ptr<Projector> projector_;
  std::unique_ptr<PlaceholderDecoder> decoder_;
};

class Family final : public ModelFamily {
 public:
  std::vector<TensorSpec> expected_tensors(const ConfigView& view) const override {
    const Config c = Config::from(view);
    std::vector<TensorSpec> specs;
    ClipVisionTower::declare(specs, "vision_tower.vision_model", c.vision);
    add_linear(specs, "multi_modal_projector.linear_1", c.projector_input(), c.text.hidden_size, true);
    add_linear(specs, "multi_modal_projector.linear_2", c.text.hidden_size, c.text.hidden_size, true);
    TextModel::declare(specs, c.text_model());
    return specs;
  }
  std::vector<Op> required_ops(const ConfigView& view) const override {
    const Config c = Config::from(view);
    std::vector<Op> ops;
    ClipVisionTower::add_ops(ops, c.vision);
    TextModel::add_ops(ops, c.text_model());
    add_ops(ops, {Op::Matmul, Op::Activation});  // the projector
    return ops;
  }
  std::unique_ptr<vlm::Model> load(const LoadContext& context) const override { return std::make_unique<Model>(context); }
  std::vector<std::string> synth_sizes() const override { return {"tiny"}; }
  // A tiny random LLaVA-1.5 in the llava-hf layout: 56 px images, 16 patches of 14 px.
  SynthRecipe synth_recipe(std::string_view) const override {
    SynthRecipe r;
    r.merges = 200;
    r.special_tokens = {"<s>", "</s>", "<unk>", "<image>", "<pad>"};
    auto id = [&](const char* token) { return r.special_id(token); };
    r.config = {{"architectures", {"LlavaForConditionalGeneration"}}, {"model_type", "llava"},
                {"image_token_index", id("<image>")}, {"pad_token_id", id("<pad>")}, {"vision_feature_layer", -2},
                {"vision_feature_select_strategy", "default"}, {"projector_hidden_act", "gelu"},
                {"text_config", {{"model_type", "llama"}, {"hidden_size", 64}, {"intermediate_size", 128},
                                 {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                                 {"max_position_embeddings", 2048}, {"vocab_size", r.padded_vocab()}}},
                {"vision_config", {{"model_type", "clip_vision_model"}, {"hidden_size", 32},
                                   {"intermediate_size", 64}, {"num_hidden_layers", 3}, {"num_attention_heads", 2},
                                   {"image_size", 56}, {"patch_size", 14}}}};
    r.generation_config = {{"bos_token_id", id("<s>")}, {"eos_token_id", id("</s>")}, {"pad_token_id", id("<pad>")}};
    r.preprocessor_config = {{"crop_size", {{"height", 56}, {"width", 56}}}, {"size", {{"shortest_edge", 56}}},
                             {"image_processor_type", "CLIPImageProcessor"}};
    r.processor_config = {{"image_token", "<image>"}, {"patch_size", 14}, {"num_additional_image_tokens", 1},
                          {"vision_feature_select_strategy", "default"}};
    r.chat_template =
        "{% for message in messages %}{{ message['role'].upper() + ': ' }}{% for content in message['content'] %}"
        "{% if content['type'] == 'image' %}{{ '<image>\\n' }}{% else %}{{ content['text'] + ' ' }}{% endif %}"
        "{% endfor %}{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}";
    r.tokenizer_config = {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}, {"pad_token", "<pad>"},
                          {"add_bos_token", true}};
    return r;
  }
};

}  // namespace llava

VLM_DEFINE_MODEL_PLUGIN(llava::Family, "llava", "1.0.0",
                        "LLaVA-1.5 (LlavaForConditionalGeneration): CLIP tower, two-layer projector, Llama decoder",
                        "llava")
