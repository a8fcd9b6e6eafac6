#pragma once
// The generation loop shared by every family: processor -> vision encoder -> connector -> decoder prefill
// -> sample / step until a stop condition, streaming text as it becomes final.
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "vlm/generate/generation_config.hpp"
#include "vlm/model/family.hpp"

namespace vlm {

struct Timings {
  double preprocess_ms = 0, vision_ms = 0, prefill_ms = 0, decode_ms = 0;
  int64_t decode_steps = 0;
  double per_token_decode_ms() const { return decode_steps ? decode_ms / double(decode_steps) : 0.0; }
};

struct GenerationResult {
  std::vector<std::vector<int64_t>> prompt_ids;     // per row, padding removed
  std::vector<std::vector<int64_t>> generated_ids;  // per row, stop token included when one ended it
  std::vector<std::string> texts;                   // decoded generated text (special tokens skipped)
  std::vector<std::string> finish_reasons;          // "eos", "stop_string", "length"
  Timings timings;
};

// Called with (row, text) whenever a row's text grows.
using TextCallback = std::function<void(size_t, const std::string&)>;

class ImageFeatureCache;

// How a run uses the engine (not generation settings: these do not change what is generated, only how).
struct GenerateOptions {
  ImageFeatureCache* image_cache = nullptr;  // images through the cache (see vision_features)
  DType kv_dtype = DType::F32;               // BF16 halves the KV cache
};

// Runs the whole pipeline for a batch of prompts.
GenerationResult generate(Model& model, std::span<const Prompt> prompts, const GenerationConfig& config,
                          const TextCallback& on_text = {}, Trace* trace = nullptr, const GenerateOptions& options = {});

// Generation from already prepared inputs (the processor already ran). `features`: the connector output
// when already computed; null runs the vision encoder.
GenerationResult generate_from_inputs(Model& model, const ModelInputs& inputs, const GenerationConfig& config,
                                      const TextCallback& on_text = {}, Trace* trace = nullptr,
                                      const Tensor* features = nullptr, const GenerateOptions& options = {});

}  // namespace vlm
