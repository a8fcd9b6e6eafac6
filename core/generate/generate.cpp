#include "vlm/generate/generate.hpp"

#include <chrono>

#include "vlm/generate/sampler.hpp"
#include "vlm/generate/text_stream.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

bool has_pixels(const ModelInputs& inputs) {
  for (const auto& [name, t] : inputs.tensors)
    if (name.starts_with("pixel_values") && t.numel() > 0) return true;
  return false;
}

void record_inputs(const ModelInputs& inputs, Trace* trace) {
  if (!trace) return;
  for (const auto& [name, t] : inputs.tensors)
    if (trace->wants(name)) trace->record(name, t);
}

// Position in `text` of the earliest stop string, or npos.
size_t find_stop(const std::string& text, const std::vector<std::string>& stops) {
  size_t best = std::string::npos;
  for (const auto& s : stops)
    if (!s.empty())
      if (size_t at = text.find(s); at != std::string::npos && at < best) best = at;
  return best;
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string. That text may turn
// out to be the start of a stop string once more tokens arrive, in which case it is cut from the result,
// so it must not be streamed yet: text given to the callback cannot be taken back.
size_t possible_stop_start(const std::string& text, const std::vector<std::string>& stops) {
  size_t longest = 0;
  for (const auto& s : stops) {
    if (s.empty()) continue;
    for (size_t n = std::min(s.size() - 1, text.size()); n > longest; --n)
      if (text.compare(text.size() - n, n, s, 0, n) == 0) {
        longest = n;
        break;
      }
  }
  return longest;
}

}  // namespace

GenerationResult generate(Model& model, std::span<const Prompt> prompts, const GenerationConfig& config,
                          const TextCallback& on_text, Trace* trace) {
  const auto start = Clock::now();
  const ModelInputs inputs = model.processor().prepare(prompts);
  const double preprocess_ms = ms_since(start);
  GenerationResult result = generate_from_inputs(model, inputs, config, on_text, trace);
  result.timings.preprocess_ms = preprocess_ms;
  return result;
}

GenerationResult generate_from_inputs(Model& model, const ModelInputs& inputs, const GenerationConfig& config,
                                      const TextCallback& on_text, Trace* trace) {
  Decoder* decoder = model.decoder();
  if (!decoder) fail("this model has no text decoder (it scores image-text pairs); generation does not apply");
  const Tensor& input_ids = inputs.at("input_ids");
  const Tensor& attention_mask = inputs.at("attention_mask");
  if (input_ids.rank() != 2 || input_ids.dtype() != DType::I64 || !(attention_mask.shape() == input_ids.shape()))
    fail("processor output: input_ids must be [batch, length] i64 with a matching attention_mask");
  const int64_t batch = input_ids.dim(0), length = input_ids.dim(1);
  record_inputs(inputs, trace);

  GenerationResult result;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> row;
    for (int64_t s = 0; s < length; ++s)
      if (attention_mask.data<int64_t>()[b * length + s]) row.push_back(input_ids.data<int64_t>()[b * length + s]);
    // A row without tokens has no last position to predict from: the decoder would read outside the prompt
    // (or attend to padding only) rather than fail clearly.
    if (row.empty())
      fail("{} is empty (no tokens after templating and tokenization): there is nothing to continue from",
           batch == 1 ? std::string("the prompt") : fmt::format("prompt row {} of the batch", b));
    result.prompt_ids.push_back(std::move(row));
  }
  if (length + config.max_new_tokens > decoder->max_context())
    fail("the prompt has {} tokens and {} new tokens were asked for, but the model's context is {} tokens; shorten "
         "the prompt, use fewer or smaller images, or lower --max-new-tokens",
         length, config.max_new_tokens, decoder->max_context());

  // Vision side.
  auto start = Clock::now();
  Tensor features;
  if (has_pixels(inputs) && model.vision_encoder()) {
    Tensor vision = model.vision_encoder()->encode(inputs, trace);
    features = model.connector() ? model.connector()->project(vision, inputs, trace) : vision;
  }
  result.timings.vision_ms = ms_since(start);

  // Prefill.
  start = Clock::now();
  auto state = decoder->begin(inputs, length + config.max_new_tokens);
  Tensor logits = decoder->prefill(*state, inputs, features.defined() ? &features : nullptr, trace);
  result.timings.prefill_ms = ms_since(start);

  const int64_t vocab = logits.dim(-1);
  const size_t rows = static_cast<size_t>(batch);
  std::vector<Sampler> samplers(rows, Sampler(config));
  std::vector<std::vector<int64_t>> history(rows);
  for (int64_t b = 0; b < batch; ++b)
    history[size_t(b)].assign(input_ids.data<int64_t>() + b * length, input_ids.data<int64_t>() + (b + 1) * length);
  std::vector<TextStream> streams;
  for (int64_t b = 0; b < batch; ++b)
    streams.emplace_back([&model](std::span<const int64_t> ids) { return model.processor().decode(ids, true); });
  result.generated_ids.assign(rows, {});
  result.texts.assign(rows, {});
  result.finish_reasons.assign(rows, "length");
  std::vector<size_t> streamed(rows, 0);  // bytes of each row's text already given to on_text
  std::vector<bool> finished(rows, config.max_new_tokens == 0);
  std::vector<int64_t> next(rows, 0);
  const int64_t filler = config.pad_token_id.value_or(config.eos_token_ids.empty() ? 0 : config.eos_token_ids[0]);
  std::vector<float> step_logits;  // "generation_step_logits" for the trace
  const bool trace_steps = trace && trace->wants("generation_step_logits");

  start = Clock::now();
  for (int64_t step = 0; step < config.max_new_tokens; ++step) {
    if (trace_steps) step_logits.insert(step_logits.end(), logits.data<float>(), logits.data<float>() + batch * vocab);
    bool all_done = true;
    for (int64_t b = 0; b < batch; ++b) {
      const size_t row = size_t(b);
      if (finished[row]) {
        next[row] = filler;
        continue;
      }
      std::span<float> row_logits(logits.data<float>() + b * vocab, size_t(vocab));
      const int64_t token = samplers[row].next(row_logits, history[row], step);
      next[row] = token;
      history[row].push_back(token);
      result.generated_ids[row].push_back(token);
      std::string piece = streams[row].push(token);
      const bool eos = !config.ignore_eos && std::find(config.eos_token_ids.begin(), config.eos_token_ids.end(),
                                                       token) != config.eos_token_ids.end();
      const bool last = eos || int64_t(result.generated_ids[row].size()) == config.max_new_tokens;
      if (last) piece += streams[row].flush();
      std::string& text = result.texts[row];
      if (!piece.empty()) {
        text += piece;
        const size_t stop_at = find_stop(text, config.stop_strings);
        if (stop_at != std::string::npos) {
          text.resize(stop_at);
          finished[row] = true;
          result.finish_reasons[row] = "stop_string";
        }
      }
      // When the eos token's flush completes a stop string, the text was cut at the stop string: that
      // reason stands.
      if (eos && !finished[row]) {
        finished[row] = true;
        result.finish_reasons[row] = "eos";
      }
      if (on_text) {
        // Stream what can no longer be cut: everything once the row is done, otherwise all but a tail
        // that could be the start of a stop string. A stop string is cut where it starts, which is never
        // before `streamed[row]`, so the callback's text always adds up to the final text.
        const size_t ready =
            finished[row] || last ? text.size() : text.size() - possible_stop_start(text, config.stop_strings);
        if (ready > streamed[row]) {
          on_text(row, text.substr(streamed[row], ready - streamed[row]));
          streamed[row] = ready;
        }
      }
      all_done = all_done && finished[row];
    }
    if (all_done || step + 1 == config.max_new_tokens) break;
    logits = decoder->step(*state, next, trace);
    ++result.timings.decode_steps;
  }
  result.timings.decode_ms = ms_since(start);

  if (trace) {
    int64_t longest = 0;
    for (const auto& g : result.generated_ids) longest = std::max<int64_t>(longest, int64_t(g.size()));
    if (trace->wants("generated_ids")) {
      Tensor ids = Tensor::zeros(Shape{batch, longest}, DType::I64);
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t i = 0; i < longest; ++i)
          ids.data<int64_t>()[b * longest + i] =
              i < int64_t(result.generated_ids[size_t(b)].size()) ? result.generated_ids[size_t(b)][size_t(i)] : filler;
      trace->record("generated_ids", ids);
    }
    if (trace->wants("generated_full_ids")) {  // what HF's generate() returns: the padded prompt, then the new ids
      const int64_t width = length + longest;
      Tensor full = Tensor::zeros(Shape{batch, width}, DType::I64);
      for (int64_t b = 0; b < batch; ++b) {
        int64_t* out = full.data<int64_t>() + b * width;
        std::copy_n(input_ids.data<int64_t>() + b * length, length, out);
        const auto& generated = result.generated_ids[size_t(b)];
        for (int64_t i = 0; i < longest; ++i) out[length + i] = i < int64_t(generated.size()) ? generated[size_t(i)] : filler;
      }
      trace->record("generated_full_ids", full);
    }
    if (trace_steps && !step_logits.empty()) {
      // Collected step-major; HF reports [batch, steps, vocab].
      const int64_t steps = int64_t(step_logits.size()) / (batch * vocab);
      Tensor all = Tensor::zeros(Shape{batch, steps, vocab}, DType::F32);
      for (int64_t t = 0; t < steps; ++t)
        for (int64_t b = 0; b < batch; ++b)
          std::copy_n(step_logits.data() + (t * batch + b) * vocab, vocab, all.data<float>() + (b * steps + t) * vocab);
      trace->record("generation_step_logits", all);
    }
  }
  return result;
}

}  // namespace vlm
