#include "vlm/generate/generator.hpp"

#include <algorithm>
#include <numeric>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "vlm/util/error.hpp"

namespace vlm {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
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
// so it must not be streamed yet: text given out cannot be taken back.
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

Decoder& text_decoder(Model& model) {
  Decoder* decoder = model.decoder();
  if (!decoder) fail("this model has no text decoder (it scores image-text pairs); generation does not apply");
  return *decoder;
}

}  // namespace

struct Generator::Active {
  SequenceId id = 0;
  GenerationConfig config;
  Sampler sampler;
  TextStream stream;
  std::vector<int64_t> history;  // padded prompt + generated (repetition penalty)
  RequestState* state = nullptr;
  int64_t pending = -1;  // sampled token to feed next step
  size_t released = 0;   // bytes of text already given out
  bool keep_logits = false;
  std::vector<float> raw;        // the step's logits before sampling (logprobs requested)
  std::vector<int64_t> order;    // scratch for the top alternatives

  Active(const GenerationConfig& c, TextStream::Decode decode) : config(c), sampler(c), stream(std::move(decode)) {}
};

Generator::Generator(Model& model, const GeneratorOptions& options)
    : model_(&model), decoder_(&text_decoder(model)), options_(options),
      session_(decoder_->open_session(options.session)) {}

Generator::~Generator() = default;

Generator::Active& Generator::find(SequenceId sequence) {
  for (auto& a : active_)
    if (a->id == sequence) return *a;
  fail("generator: request {} is not active", sequence);
}

const RequestState& Generator::request(SequenceId sequence) const {
  auto it = states_.find(sequence);
  if (it == states_.end()) fail("generator: no request {}", sequence);
  return it->second;
}

void Generator::forget(SequenceId sequence) {
  auto it = states_.find(sequence);
  if (it == states_.end() || it->second.finish_reason.empty()) fail("generator: request {} is not finished", sequence);
  states_.erase(it);
}

std::vector<SequenceId> Generator::admit(const ModelInputs& inputs, const GenerationConfig& config, Trace* trace,
                                         bool keep_logits, const Tensor* features) {
  const Tensor& input_ids = inputs.at("input_ids");
  const Tensor& attention_mask = inputs.at("attention_mask");
  if (input_ids.rank() != 2 || input_ids.dtype() != DType::I64 || !(attention_mask.shape() == input_ids.shape()))
    fail("processor output: input_ids must be [batch, length] i64 with a matching attention_mask");
  const int64_t batch = input_ids.dim(0), length = input_ids.dim(1);
  std::vector<std::vector<int64_t>> prompts;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> row;
    for (int64_t s = 0; s < length; ++s)
      if (attention_mask.data<int64_t>()[b * length + s]) row.push_back(input_ids.data<int64_t>()[b * length + s]);
    // A row without tokens has no last position to predict from.
    if (row.empty())
      fail("{} is empty (no tokens after templating and tokenization): there is nothing to continue from",
           batch == 1 ? std::string("the prompt") : fmt::format("prompt row {} of the batch", b));
    if (int64_t(row.size()) + config.max_new_tokens > decoder_->max_context())
      fail("the prompt has {} tokens and {} new tokens were asked for, but the model's context is {} tokens; shorten "
           "the prompt, use fewer or smaller images, or lower --max-new-tokens",
           row.size(), config.max_new_tokens, decoder_->max_context());
    prompts.push_back(std::move(row));
  }

  Tensor encoded;
  if (!features) {
    const auto start = Clock::now();
    encoded = vision_features(*model_, {}, inputs, nullptr, trace);
    vision_ms_ += ms_since(start);
    features = &encoded;
  }
  // Admission is prompt work (an encoder-decoder runs its encoder here): it counts as prefill.
  const auto admitted = Clock::now();
  const auto ids = session_->admit(inputs, features->defined() ? features : nullptr, trace);
  prefill_ms_ += ms_since(admitted);
  for (int64_t b = 0; b < batch; ++b) {
    auto request = std::make_unique<Active>(
        config, [this](std::span<const int64_t> t) { return model_->processor().decode(t, true); });
    request->id = ids[size_t(b)];
    request->keep_logits = keep_logits;
    // HF's repetition history is the ids generation extends: the padded prompt, or an encoder-decoder's
    // decoder ids (its start token).
    if (const int64_t start = decoder_->start_token(); start >= 0)
      request->history.assign(1, start);
    else
      request->history.assign(input_ids.data<int64_t>() + b * length, input_ids.data<int64_t>() + (b + 1) * length);
    request->state = &states_[request->id];
    request->state->prompt_ids = std::move(prompts[size_t(b)]);
    active_.push_back(std::move(request));
  }
  return ids;
}

SequenceId Generator::admit(const Prompt& prompt, const GenerationConfig& config) {
  const std::span<const Prompt> one(&prompt, 1);
  const ModelInputs inputs = model_->processor().prepare(one);
  const auto start = Clock::now();
  const Tensor features = vision_features(*model_, one, inputs, options_.image_cache, nullptr);
  vision_ms_ += ms_since(start);
  return admit(inputs, config, nullptr, false, &features).front();
}

void Generator::cancel(SequenceId sequence) {
  for (auto& a : active_)
    if (a->id == sequence) {
      finish(*a, "cancelled");
      std::erase_if(active_, [&](const std::unique_ptr<Active>& x) { return x->id == sequence; });
      return;
    }
}

void Generator::finish(Active& request, const std::string& reason) {
  request.state->finish_reason = reason;
  session_->release(request.id);
}

const std::vector<StepEvent>& Generator::step() {
  std::vector<StepEvent>& events = events_;
  events.clear();
  if (active_.empty()) return events;
  // Every decoding request feeds its last token; waiting prompts run chunks within the step's prompt
  // budget, in admission order (a prompt that gets no budget this step waits for the next).
  inputs_.clear();
  int64_t budget = std::max<int64_t>(1, options_.prefill_chunk);
  bool any_prompt = false;
  for (auto& a : active_) {
    const int64_t remaining = session_->prompt_remaining(a->id);
    if (remaining == 0) {
      inputs_.push_back({a->id, a->pending, 0, a->keep_logits});
    } else if (budget > 0) {
      // Kept logits need the whole prompt in one forward.
      const int64_t take = a->keep_logits ? remaining : std::min(remaining, budget);
      inputs_.push_back({a->id, -1, take, a->keep_logits});
      budget -= take;
      any_prompt = true;
    }
  }
  const auto start = Clock::now();
  StepOutput& out = session_->forward(inputs_);
  const int64_t vocab = out.logits.defined() ? out.logits.dim(1) : 0;

  for (size_t i = 0; i < inputs_.size(); ++i) {
    Active& a = find(inputs_[i].sequence);
    const auto rows = out.rows[i];
    if (inputs_[i].token < 0 && a.keep_logits) {
      a.state->prompt_logits = out.logits.rows(rows.first, rows.count).clone();
      a.state->prompt_hidden = out.hidden.rows(rows.first, rows.count).clone();
    }
    if (session_->prompt_remaining(a.id) > 0 || rows.count == 0) {
      StepEvent waiting;
      waiting.sequence = a.id;
      events.push_back(std::move(waiting));
      continue;  // more prompt to run
    }
    StepEvent event;
    event.sequence = a.id;
    const int64_t generated = int64_t(a.state->generated_ids.size());
    if (a.config.max_new_tokens == 0) {
      finish(a, "length");
      event.finish_reason = "length";
      events.push_back(std::move(event));
      continue;
    }
    float* row_logits = out.logits.data<float>() + (rows.first + rows.count - 1) * vocab;
    if (a.keep_logits) {
      a.state->step_logits.insert(a.state->step_logits.end(), row_logits, row_logits + vocab);
      const int64_t width = out.hidden.dim(1);
      const float* row_hidden = out.hidden.data<float>() + (rows.first + rows.count - 1) * width;
      a.state->step_hidden.insert(a.state->step_hidden.end(), row_hidden, row_hidden + width);
    }
    // Log-probabilities come from the raw logits; the sampler may change them in place.
    double log_norm = 0;
    if (a.config.logprobs >= 0) {
      a.raw.assign(row_logits, row_logits + vocab);
      const float top = *std::max_element(a.raw.begin(), a.raw.end());
      double sum = 0;
      for (const float v : a.raw) sum += std::exp(double(v) - top);
      log_norm = double(top) + std::log(sum);
    }
    const int64_t token = a.sampler.next(std::span<float>(row_logits, size_t(vocab)), a.history, generated);
    if (a.config.logprobs >= 0) {
      event.logprob = float(double(a.raw[size_t(token)]) - log_norm);
      const int64_t k = std::min<int64_t>(a.config.logprobs, vocab);
      if (k > 0) {
        a.order.resize(size_t(vocab));
        std::iota(a.order.begin(), a.order.end(), int64_t(0));
        std::partial_sort(a.order.begin(), a.order.begin() + k, a.order.end(), [&](int64_t x, int64_t y) {
          return a.raw[size_t(x)] > a.raw[size_t(y)] || (a.raw[size_t(x)] == a.raw[size_t(y)] && x < y);
        });
        for (int64_t i = 0; i < k; ++i)
          event.top_logprobs.emplace_back(a.order[size_t(i)], float(double(a.raw[size_t(a.order[size_t(i)])]) - log_norm));
      }
    }
    a.history.push_back(token);
    a.state->generated_ids.push_back(token);
    a.pending = token;
    event.token = token;

    std::string piece = a.stream.push(token);
    const bool eos = !a.config.ignore_eos &&
                     std::find(a.config.eos_token_ids.begin(), a.config.eos_token_ids.end(), token) !=
                         a.config.eos_token_ids.end();
    const bool last = eos || generated + 1 == a.config.max_new_tokens;
    if (last) piece += a.stream.flush();
    std::string& text = a.state->text;
    std::string reason;
    if (!piece.empty()) {
      text += piece;
      const size_t stop_at = find_stop(text, a.config.stop_strings);
      if (stop_at != std::string::npos) {
        text.resize(stop_at);
        reason = "stop_string";
      }
    }
    // When the eos token's flush completes a stop string, the text was cut at the stop string: that
    // reason stands.
    if (reason.empty() && eos) reason = "eos";
    if (reason.empty() && last) reason = "length";
    // Give out what can no longer be cut: everything once the request is done, otherwise all but a tail
    // that could be the start of a stop string (a stop string is cut where it starts, never before what
    // was given out, so the pieces always add up to the final text).
    const size_t ready = !reason.empty() ? text.size() : text.size() - possible_stop_start(text, a.config.stop_strings);
    if (ready > a.released) {
      event.text = text.substr(a.released, ready - a.released);
      a.released = ready;
    }
    if (!reason.empty()) {
      finish(a, reason);
      event.finish_reason = reason;
    }
    events.push_back(std::move(event));
  }
  std::erase_if(active_, [](const std::unique_ptr<Active>& a) { return !a->state->finish_reason.empty(); });
  if (any_prompt) {
    prefill_ms_ += ms_since(start);
  } else {
    decode_ms_ += ms_since(start);
    ++decode_steps_;
  }
  return events;
}

std::vector<double> score_continuation(Model& model, const ModelInputs& inputs, int64_t continuation) {
  Decoder& decoder = text_decoder(model);
  const Tensor& ids = inputs.at("input_ids");
  const Tensor& mask = inputs.at("attention_mask");
  if (ids.rank() != 2 || ids.dim(0) != 1) fail("score: one prompt at a time (got {} rows)", ids.rank() == 2 ? ids.dim(0) : 0);
  std::vector<int64_t> row;
  for (int64_t s = 0; s < ids.dim(1); ++s)
    if (mask.data<int64_t>()[s]) row.push_back(ids.data<int64_t>()[s]);
  if (continuation < 1 || continuation >= int64_t(row.size()))
    fail("score: {} continuation token(s) of a {}-token sequence (need at least one token of context before them)",
         continuation, row.size());
  SessionOptions options;
  options.max_length = int64_t(row.size());
  auto session = decoder.open_session(options);
  const Tensor features = vision_features(model, {}, inputs, nullptr, nullptr);
  const SequenceId sequence = session->admit(inputs, features.defined() ? &features : nullptr, nullptr).front();
  const StepInput input{sequence, -1, 0, true};
  const StepOutput& out = session->forward(std::span<const StepInput>(&input, 1));
  const int64_t n = int64_t(row.size()), vocab = out.logits.dim(1);
  std::vector<double> logprobs;
  for (int64_t i = n - continuation; i < n; ++i) {
    // Position i - 1 predicts token i.
    const float* l = out.logits.data<float>() + (i - 1) * vocab;
    double top = l[0];
    for (int64_t v = 1; v < vocab; ++v) top = std::max<double>(top, l[v]);
    double sum = 0;
    for (int64_t v = 0; v < vocab; ++v) sum += std::exp(double(l[v]) - top);
    const int64_t token = row[size_t(i)];
    if (token < 0 || token >= vocab) fail("score: token id {} is outside the vocabulary of {}", token, vocab);
    logprobs.push_back(double(l[token]) - top - std::log(sum));
  }
  return logprobs;
}

}  // namespace vlm
