#include "vlm/generate/generate.hpp"

#include <chrono>

#include "vlm/generate/feature_cache.hpp"
#include "vlm/generate/generator.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Per-step tensors [B, steps, width] from each request's flat per-step values (zeros after a row ends).
Tensor per_step(const std::vector<const RequestState*>& rows, int64_t width, bool hidden) {
  int64_t steps = 0;
  for (const auto* r : rows) steps = std::max<int64_t>(steps, int64_t((hidden ? r->step_hidden : r->step_logits).size()) / width);
  Tensor all = Tensor::zeros(Shape{int64_t(rows.size()), steps, width}, DType::F32);
  for (size_t b = 0; b < rows.size(); ++b) {
    const auto& s = hidden ? rows[b]->step_hidden : rows[b]->step_logits;
    std::copy(s.begin(), s.end(), all.data<float>() + int64_t(b) * steps * width);
  }
  return all;
}

// An encoder-decoder's results (HF Seq2Seq generate): the decoder ids start from `start`; "logits" and
// "decoder_last_hidden_state" are the teacher-forced decoder outputs over decoder_input_ids (the start
// token and every generated id but the last), which are exactly the steps' logits and states.
void record_decoder_results(Trace& trace, const std::vector<const RequestState*>& rows, int64_t start,
                            int64_t filler) {
  const int64_t batch = int64_t(rows.size());
  int64_t longest = 0;
  for (const auto* r : rows) longest = std::max<int64_t>(longest, int64_t(r->generated_ids.size()));
  auto ids = [&](int64_t width, int64_t count) {
    Tensor t = Tensor::zeros(Shape{batch, width}, DType::I64);
    for (int64_t b = 0; b < batch; ++b) {
      const auto& g = rows[size_t(b)]->generated_ids;
      int64_t* out = t.data<int64_t>() + b * width;
      out[0] = start;
      for (int64_t i = 1; i < width; ++i) out[i] = i - 1 < std::min<int64_t>(count, int64_t(g.size())) ? g[size_t(i - 1)] : filler;
    }
    return t;
  };
  if (trace.wants("generated_full_ids")) trace.record("generated_full_ids", ids(longest + 1, longest));
  if (longest > 0 && trace.wants("decoder_input_ids")) trace.record("decoder_input_ids", ids(longest, longest - 1));
  if (trace.wants("logits")) trace.record("logits", per_step(rows, rows[0]->prompt_logits.dim(1), false));
  if (trace.wants("decoder_last_hidden_state"))
    trace.record("decoder_last_hidden_state", per_step(rows, rows[0]->prompt_hidden.dim(1), true));
}

// Dumps in Hugging Face's batch layout: per-row results placed after the row's left padding.
void record_results(Trace& trace, const Tensor& input_ids, const Tensor& attention_mask,
                    const std::vector<const RequestState*>& rows, int64_t filler, int64_t start) {
  const int64_t batch = input_ids.dim(0), length = input_ids.dim(1);
  int64_t longest = 0;
  for (const auto* r : rows) longest = std::max<int64_t>(longest, int64_t(r->generated_ids.size()));
  auto generated = [&](int64_t b, int64_t i) {
    const auto& g = rows[size_t(b)]->generated_ids;
    return i < int64_t(g.size()) ? g[size_t(i)] : filler;
  };
  if (trace.wants("generated_ids")) {
    Tensor ids = Tensor::zeros(Shape{batch, longest}, DType::I64);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < longest; ++i) ids.data<int64_t>()[b * longest + i] = generated(b, i);
    trace.record("generated_ids", ids);
  }
  if (start >= 0) {
    record_decoder_results(trace, rows, start, filler);
  } else if (trace.wants("generated_full_ids")) {  // what HF's generate() returns: the padded prompt, then the new ids
    const int64_t width = length + longest;
    Tensor full = Tensor::zeros(Shape{batch, width}, DType::I64);
    for (int64_t b = 0; b < batch; ++b) {
      int64_t* out = full.data<int64_t>() + b * width;
      std::copy_n(input_ids.data<int64_t>() + b * length, length, out);
      for (int64_t i = 0; i < longest; ++i) out[length + i] = generated(b, i);
    }
    trace.record("generated_full_ids", full);
  }
  // Full-prompt tensors [B, S, ...]: padded positions stay zero (HF's values there average padding).
  for (const char* name : {"logits", "last_hidden_state"}) {
    if (start >= 0 || !trace.wants(name)) continue;
    const bool logits = std::string_view(name) == "logits";
    const int64_t width = logits ? rows[0]->prompt_logits.dim(1) : rows[0]->prompt_hidden.dim(1);
    Tensor all = Tensor::zeros(Shape{batch, length, width}, DType::F32);
    for (int64_t b = 0; b < batch; ++b) {
      const Tensor& src = logits ? rows[size_t(b)]->prompt_logits : rows[size_t(b)]->prompt_hidden;
      int64_t k = 0;
      for (int64_t s = 0; s < length; ++s)
        if (attention_mask.data<int64_t>()[b * length + s])
          std::copy_n(src.data<float>() + (k++) * width, width, all.data<float>() + (b * length + s) * width);
    }
    trace.record(name, all);
  }
  if (trace.wants("generation_step_logits")) {
    const Tensor all = per_step(rows, rows[0]->prompt_logits.dim(1), false);
    if (all.dim(1) > 0) trace.record("generation_step_logits", all);
  }
}

}  // namespace

GenerationResult generate(Model& model, std::span<const Prompt> prompts, const GenerationConfig& config,
                          const TextCallback& on_text, Trace* trace, const GenerateOptions& options) {
  auto start = Clock::now();
  const ModelInputs inputs = model.processor().prepare(prompts);
  const double preprocess_ms = ms_since(start);
  start = Clock::now();
  const Tensor features = vision_features(model, prompts, inputs, options.image_cache, trace);
  const double vision_ms = ms_since(start);
  GenerationResult result = generate_from_inputs(model, inputs, config, on_text, trace, &features, options);
  result.timings.preprocess_ms = preprocess_ms;
  result.timings.vision_ms += vision_ms;
  return result;
}

GenerationResult generate_from_inputs(Model& model, const ModelInputs& inputs, const GenerationConfig& config,
                                      const TextCallback& on_text, Trace* trace, const Tensor* features,
                                      const GenerateOptions& run_options) {
  const Tensor& input_ids = inputs.at("input_ids");
  if (input_ids.rank() != 2) fail("processor output: input_ids must be [batch, length]");
  const int64_t batch = input_ids.dim(0), length = input_ids.dim(1);
  record_inputs(inputs, trace);

  GeneratorOptions options;
  options.session.max_sequences = std::max<int64_t>(1, batch);
  options.session.max_length = length + config.max_new_tokens;
  options.session.kv_dtype = run_options.kv_dtype;
  Generator generator(model, options);
  const auto ids = generator.admit(inputs, config, trace, trace != nullptr, features);
  std::map<SequenceId, size_t> row_of;
  for (size_t i = 0; i < ids.size(); ++i) row_of[ids[i]] = i;
  while (!generator.idle())
    for (const auto& event : generator.step())
      if (on_text && !event.text.empty()) on_text(row_of.at(event.sequence), event.text);

  GenerationResult result;
  std::vector<const RequestState*> rows;
  for (const SequenceId id : ids) {
    const RequestState& r = generator.request(id);
    rows.push_back(&r);
    result.prompt_ids.push_back(r.prompt_ids);
    result.generated_ids.push_back(r.generated_ids);
    result.texts.push_back(r.text);
    result.finish_reasons.push_back(r.finish_reason);
  }
  result.timings.vision_ms = generator.vision_ms();
  result.timings.prefill_ms = generator.prefill_ms();
  result.timings.decode_ms = generator.decode_ms();
  result.timings.decode_steps = generator.decode_steps();
  if (trace) {
    const int64_t filler = config.pad_token_id.value_or(config.eos_token_ids.empty() ? 0 : config.eos_token_ids[0]);
    record_results(*trace, input_ids, inputs.at("attention_mask"), rows, filler, model.decoder()->start_token());
  }
  return result;
}

}  // namespace vlm
