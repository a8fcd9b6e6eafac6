#pragma once
// A model family: what a plugin provides. The host asks it which tensors a config implies, which ops it
// needs, and to load a Model from a checkpoint onto a backend.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vlm/backend/backend.hpp"
#include "vlm/io/checkpoint.hpp"
#include "vlm/model/components.hpp"
#include "vlm/model/tensor_spec.hpp"
#include "vlm/nn/weights.hpp"

namespace vlm {

struct LoadOptions {
  // Float weights converted to this dtype at load, which sets the matmul dtype (activations, norms and
  // softmax stay f32): nullopt = as stored and memory-mapped (`--dtype auto`), F32 = a bf16 checkpoint
  // widened as Hugging Face's default from_pretrained does (`--dtype f32`, parity), BF16 = an f32
  // checkpoint narrowed for bf16 matmuls (`--dtype bf16`). A converted weight is a copy, not a mapping.
  std::optional<DType> weight_dtype;
  Json processor_overrides = Json::object();  // e.g. {"min_pixels": ..., "max_pixels": ...}
  // `--quantize`: the language model's matrices stored as int8 / int4 (vlm/tensor/quantized.hpp).
  Quantization quantization = Quantization::None;
  // Where the quantised weights are cached: nullopt = default_quantized_cache_dir(), empty = nowhere.
  std::optional<std::filesystem::path> quantized_cache_dir;
};

struct LoadContext {
  std::shared_ptr<const Checkpoint> checkpoint;
  Backend* backend = nullptr;
  LoadOptions options;
  // Set by the loader when options.quantization is on; plugins reach it through weight_loader().
  std::shared_ptr<QuantizedWeightCache> quantized;
};

// The WeightLoader a family loads its weights with: the context's checkpoint, backend, weight dtype and
// quantised-weight cache.
inline WeightLoader weight_loader(const LoadContext& context) {
  return WeightLoader(*context.checkpoint, *context.backend, context.options.weight_dtype, context.quantized.get());
}

// A loaded model: the components this family uses (absent ones are null).
class Model {
 public:
  virtual ~Model() = default;
  virtual Processor& processor() = 0;
  virtual const ImageProcessor* image_processor() const { return nullptr; }
  virtual VisionEncoder* vision_encoder() { return nullptr; }
  virtual Connector* connector() { return nullptr; }
  virtual Decoder* decoder() { return nullptr; }
  virtual Scorer* scorer() { return nullptr; }
  // Whether a batch's connector output is the concatenation of each image's own, in order (what the
  // image-feature cache relies on). False where the batch layout adds rows of its own (Mllama's padding
  // images, which text without an image attends to).
  virtual bool features_per_image() const { return true; }
};

// Everything `vlm synth` needs to write a random checkpoint in exact Hugging Face layout. The host adds
// model.safetensors (from expected_tensors(config)) and a small byte-level BPE tokenizer.json whose
// special tokens are `special_tokens`, in order, right after the 256 byte tokens and `merges` merges.
struct SynthRecipe {
  Json config;                             // config.json
  Json generation_config = Json::object();
  Json preprocessor_config;                // null = none
  Json processor_config;                   // null = none
  std::string chat_template;               // written to chat_template.json
  std::vector<std::string> special_tokens;
  int merges = 64;                         // BPE merges learned from a built-in corpus
  size_t leading_special_tokens = 0;       // how many of special_tokens come first, at ids 0.. (RoBERTa)
  std::vector<std::string> lstrip_tokens;  // specials that absorb the space before them (RoBERTa's <mask>)
  Json post_processor;                     // tokenizer.json post_processor (null: ByteLevel, adds no token)
  Json tokenizer_config = Json::object();  // extra tokenizer_config.json keys (bos_token, ...)
  DType dtype = DType::F32;                // stored weight dtype

  // Id the synthetic tokenizer gives `special_tokens[i] == token`; Error if it is not one of them.
  int64_t special_id(std::string_view token) const;
  // Tokenizer size (bytes + merges + specials) rounded up to a multiple of 64, as checkpoints pad vocabularies.
  int64_t padded_vocab() const;
};

class ModelFamily {
 public:
  virtual ~ModelFamily() = default;
  // The tensors a checkpoint with this config holds, names exactly as Hugging Face saves them.
  virtual std::vector<TensorSpec> expected_tensors(const ConfigView& config) const = 0;
  // The backend ops the model uses, checked against the backend before loading.
  virtual std::vector<Op> required_ops(const ConfigView& config) const = 0;
  // Loads a model. Throws vlm::Error ("generation not implemented yet for this family" is a valid
  // answer while a family is under construction).
  virtual std::unique_ptr<Model> load(const LoadContext& context) const = 0;
  // One line about the config: sizes, layers, heads (for `vlm info`).
  virtual std::string summarize(const ConfigView& config) const { return {}; }
  // Named sizes `vlm synth` can write ("tiny" for tests and demos, full sizes for benchmarks).
  virtual std::vector<std::string> synth_sizes() const { return {}; }
  virtual SynthRecipe synth_recipe(std::string_view size) const;
};

}  // namespace vlm
