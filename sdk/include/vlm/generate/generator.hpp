#pragma once
// Continuous generation over one decoder session: requests join (admit) and leave (when they finish)
// between steps, each with its own settings, sampler and text stream. One step() advances every active
// request by one token in a single batched forward; a newly admitted request's prompt runs in the same
// forward as the others' decode, in chunks of at most `prefill_chunk` tokens per step so a long prompt
// does not stall them. Finished requests cost nothing.
#include <map>
#include <utility>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vlm/generate/feature_cache.hpp"
#include "vlm/generate/generation_config.hpp"
#include "vlm/generate/sampler.hpp"
#include "vlm/generate/text_stream.hpp"
#include "vlm/model/family.hpp"

namespace vlm {

struct GeneratorOptions {
  SessionOptions session;
  int64_t prefill_chunk = 2048;  // prompt tokens run per step, over all admitted prompts
  ImageFeatureCache* image_cache = nullptr;  // shared by admit(Prompt); may outlive many generators
};

// What one step did for one request.
struct StepEvent {
  SequenceId sequence = 0;
  int64_t token = -1;         // the token generated this step (-1: none yet, its prompt is still running)
  std::string text;           // text that became final with it (never taken back)
  std::string finish_reason;  // set on the request's last event: "eos", "stop_string" or "length"
  // With GenerationConfig::logprobs >= 0: the token's log-probability and the most likely alternatives.
  float logprob = 0;
  std::vector<std::pair<int64_t, float>> top_logprobs;
};

// A request's state and, once finished, its result.
struct RequestState {
  std::vector<int64_t> prompt_ids;     // without padding
  std::vector<int64_t> generated_ids;  // the stop token included when one ended it
  std::string text;                    // decoded generated text (special tokens skipped), stop string cut
  std::string finish_reason;           // empty while running
  // Only when admitted with keep_logits: the prompt's logits and final-normed hidden states [n, vocab] /
  // [n, hidden], and the raw logits of each generated token's step [steps, vocab] (before any processor)
  // with the final-normed hidden state they came from [steps, hidden].
  Tensor prompt_logits, prompt_hidden;
  std::vector<float> step_logits, step_hidden;
};

class Generator {
 public:
  Generator(Model& model, const GeneratorOptions& options);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Admits every row of a prepared batch as its own request (padding dropped; each row keeps its padded
  // ids as the repetition-penalty history, as Hugging Face does). `features` is the batch's connector
  // output when the caller computed it (see vision_features; undefined = no images); null runs the vision
  // encoder and connector now. keep_logits records prompt and step logits in the requests' state (dumps,
  // parity tests).
  std::vector<SequenceId> admit(const ModelInputs& inputs, const GenerationConfig& config, Trace* trace = nullptr,
                                bool keep_logits = false, const Tensor* features = nullptr);
  // One prompt through the processor (and the image cache, when the options name one), then admit().
  SequenceId admit(const Prompt& prompt, const GenerationConfig& config);

  // Advances every active request by one step. Returns one event per request that advanced (valid until
  // the next step).
  const std::vector<StepEvent>& step();
  bool idle() const { return active_.empty(); }
  int64_t active() const { return int64_t(active_.size()); }

  const RequestState& request(SequenceId sequence) const;
  // Forgets a finished request's state.
  void forget(SequenceId sequence);
  // Ends an active request now (a client that went away): finish_reason "cancelled", its cache slot
  // freed; its state stays until forget(). No-op for a finished request.
  void cancel(SequenceId sequence);

  // Time spent so far: vision (admit), admission and steps that ran prompt rows (prefill; an encoder-decoder's
  // encoder included) and decode-only steps.
  double vision_ms() const { return vision_ms_; }
  double prefill_ms() const { return prefill_ms_; }
  double decode_ms() const { return decode_ms_; }
  int64_t decode_steps() const { return decode_steps_; }

 private:
  struct Active;
  Active& find(SequenceId sequence);
  void finish(Active& request, const std::string& reason);

  Model* model_;
  Decoder* decoder_;
  GeneratorOptions options_;
  std::unique_ptr<DecoderSession> session_;
  std::vector<std::unique_ptr<Active>> active_;
  std::map<SequenceId, RequestState> states_;
  std::vector<StepInput> inputs_;
  std::vector<StepEvent> events_;
  double vision_ms_ = 0, prefill_ms_ = 0, decode_ms_ = 0;
  int64_t decode_steps_ = 0;
};

// Log-probability of each of the last `continuation` tokens of `inputs`' single row given everything
// before it (multiple-choice evaluation, perplexity): one prompt forward with every position's logits.
std::vector<double> score_continuation(Model& model, const ModelInputs& inputs, int64_t continuation);

}  // namespace vlm
