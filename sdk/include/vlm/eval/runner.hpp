#pragma once
// Runs a task's documents through a model on the engine: generate_until documents share one Generator
// (continuous batching: a document joins as soon as another finishes, up to batch_size at once; images
// through the image-feature cache when given), multiple_choice documents are scored by the log-likelihood
// of each choice after the prompt. Each finished document becomes a sample (doc_id, prompt, prediction,
// target, metrics) handed to on_sample at once, so the caller can log it before the next one finishes.
#include <filesystem>
#include <functional>
#include <span>

#include "vlm/eval/task.hpp"
#include "vlm/generate/feature_cache.hpp"
#include "vlm/generate/generation_config.hpp"
#include "vlm/model/family.hpp"

namespace vlm::eval {

struct RunOptions {
  int64_t batch_size = 1;
  // The checkpoint folder: its chat template (when it has one) wraps doc_to_text as a user turn with the
  // document's images; without one the text is used as is (the processor places the images).
  std::filesystem::path checkpoint_dir;
  GenerationConfig generation;  // the model's defaults; greedy unless generation_kwargs ask otherwise
  ImageFeatureCache* image_cache = nullptr;
  // Positions reserved per sequence (prompt + generated), capped by the model's context: the KV cache of
  // batch_size sequences is allocated up front, so the model's full context (32k for Qwen2-VL) would cost
  // gigabytes. A document that does not fit is an error naming it.
  int64_t max_length = 4096;
  DType kv_dtype = DType::F32;  // bf16 halves the KV cache
  std::function<void(const OrderedJson& sample)> on_sample;
};

struct RunStats {
  int64_t documents = 0, generated_tokens = 0, images = 0;
  double seconds = 0, vision_ms = 0;
};

// An Error when `model` cannot run `task` (a generation task on a scoring model, ...): checked for every
// task before the first one starts.
void check_runnable(Model& model, const Task& task);

RunStats run_documents(Model& model, const Task& task, std::span<const Document* const> documents,
                       const RunOptions& options);

// The generation settings a task asks for on top of `defaults` (generation_kwargs: max_new_tokens,
// temperature (0 = greedy), top_p, top_k, do_sample, until -> stop strings, repetition_penalty, ...).
GenerationConfig task_generation(const Task& task, const GenerationConfig& defaults);

// A document's sample line from its (filtered) prediction and metric values.
OrderedJson make_sample(const Task& task, const Document& doc, const std::string& prediction, const Json& metrics);

}  // namespace vlm::eval
