#include "engine.hpp"

#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "vlm/util/error.hpp"

namespace vlm::host::serve {

namespace {

using Clock = std::chrono::steady_clock;

double now_ms() {
  return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
}

GeneratorOptions generator_options(const EngineOptions& o) {
  GeneratorOptions g;
  g.session.max_sequences = std::max<int64_t>(o.max_sequences, 1);
  g.session.max_length = o.max_length;
  g.session.kv_dtype = o.kv_dtype;
  g.prefill_chunk = 256;  // a long prompt runs in chunks beside the others' decoding
  return g;
}

}  // namespace

Engine::Engine(Model& model, const EngineOptions& options, Metrics& metrics)
    : model_(model), options_(options), metrics_(metrics), generator_(model, generator_options(options)) {
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  drain(0);
}

std::shared_ptr<Job> Engine::submit(ChatRequest request) {
  auto job = std::make_shared<Job>(std::move(request));
  job->id = fmt::format("chatcmpl-{}", next_id_++);
  job->created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  job->queued_ms = now_ms();
  {
    std::lock_guard lock(mutex_);
    // Waiting places: --max-queue beyond the free sequence slots.
    const int64_t free_slots = std::max<int64_t>(0, options_.max_sequences - active_.load());
    if (stopping_ || int64_t(queue_.size()) >= options_.max_queue + free_slots) return nullptr;
    queue_.push_back(job);
  }
  wake_.notify_one();
  return job;
}

int64_t Engine::queued() const {
  std::lock_guard lock(mutex_);
  return int64_t(queue_.size());
}

void Engine::drain(double seconds) {
  stopping_ = true;
  wake_.notify_one();
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty() && active_ == 0) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  cancel_all_ = true;
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Engine::finish(Job& job, const std::string& reason) {
  {
    std::lock_guard lock(job.mutex);
    job.finish_reason = reason;
    job.done = true;
    job.total_ms = now_ms() - job.queued_ms;
  }
  job.changed.notify_all();
  metrics_.tokens(job.prompt_tokens, job.completion_tokens);
}

Json Engine::token_logprob(int64_t token, float logprob) const {
  const std::string text = model_.processor().decode(std::vector<int64_t>{token}, false);
  Json bytes = Json::array();
  for (const unsigned char c : text) bytes.push_back(int(c));
  return {{"token", text}, {"logprob", logprob}, {"bytes", bytes}};
}

void Engine::admit(const std::shared_ptr<Job>& job) {
  auto refuse = [&](ApiError error) {
    --active_;  // free the slot before the client hears, so its next request finds it free
    {
      std::lock_guard lock(job->mutex);
      job->error = std::move(error);
      job->done = true;
    }
    job->changed.notify_all();
  };
  try {
    const std::span<const Prompt> one(&job->request.prompt, 1);
    const ModelInputs inputs = model_.processor().prepare(one);
    const int64_t prompt_tokens = inputs.at("input_ids").dim(1);
    job->prompt_tokens = prompt_tokens;
    if (prompt_tokens >= options_.max_length)
      return refuse(ApiError(400, fmt::format("the prompt has {} tokens; this server's context holds {} (--context)",
                                              prompt_tokens, options_.max_length),
                             "messages", "", "context_length_exceeded"));
    GenerationConfig config = job->request.config;
    config.max_new_tokens = std::min(config.max_new_tokens, options_.max_length - prompt_tokens);
    const auto before = options_.image_cache ? options_.image_cache->stats() : ImageFeatureCache::Stats{};
    const Tensor features = vision_features(model_, one, inputs, options_.image_cache, nullptr);
    if (options_.image_cache) {
      const auto after = options_.image_cache->stats();
      job->cached_images = after.hits - before.hits;
      metrics_.cache(after.hits - before.hits, after.misses - before.misses);
    }
    const SequenceId sequence = generator_.admit(inputs, config, nullptr, false, &features).front();
    running_[sequence] = job;
    {
      std::lock_guard lock(job->mutex);
      job->admitted = true;
    }
    job->changed.notify_all();
  } catch (const Error& e) {
    refuse(ApiError(400, e.what(), "messages"));
  } catch (const std::exception& e) {  // out of memory, say: not the client's fault, and never the thread's end
    refuse(ApiError(500, fmt::format("cannot admit the request: {}", e.what())));
  }
}

void Engine::loop() {
  std::vector<std::shared_ptr<Job>> incoming;
  std::map<SequenceId, double> last_token_ms;
  while (true) {
    incoming.clear();
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || cancel_all_ || !queue_.empty() || !running_.empty(); });
      if (cancel_all_) {
        for (auto& job : queue_) job->cancelled = true;
        incoming.assign(queue_.begin(), queue_.end());
        queue_.clear();
      } else {
        while (!queue_.empty() && int64_t(running_.size() + incoming.size()) < options_.max_sequences) {
          incoming.push_back(queue_.front());
          queue_.pop_front();
        }
      }
      // Jobs being admitted hold their slots already (submit counts free slots as waiting places).
      active_ = int64_t(running_.size() + incoming.size());
      if (stopping_ && queue_.empty() && running_.empty() && incoming.empty()) break;
    }
    for (const auto& job : incoming) {
      if (job->cancelled) {
        --active_;
        finish(*job, "cancelled");
        continue;
      }
      admit(job);
    }
    // Clients that went away, or the end of a drain.
    for (auto it = running_.begin(); it != running_.end();) {
      if (it->second->cancelled || cancel_all_) {
        generator_.cancel(it->first);
        generator_.forget(it->first);
        last_token_ms.erase(it->first);
        const std::shared_ptr<Job> job = it->second;
        it = running_.erase(it);
        active_ = int64_t(running_.size());  // before the client hears
        finish(*job, "cancelled");
      } else {
        ++it;
      }
    }
    active_ = int64_t(running_.size());
    if (running_.empty()) continue;
    try {
      for (const StepEvent& event : generator_.step()) {
        auto& job = running_.at(event.sequence);
        const double t = now_ms();
        if (event.token >= 0) {
          {
            std::lock_guard lock(job->mutex);
            ++job->completion_tokens;
          }
          if (job->first_token_ms < 0) {
            job->first_token_ms = t - job->queued_ms;
            metrics_.time_to_first_token(job->first_token_ms / 1000.0);
          } else {
            metrics_.inter_token((t - last_token_ms[event.sequence]) / 1000.0);
          }
          last_token_ms[event.sequence] = t;
        }
        Json logprob;
        if (event.token >= 0 && job->request.config.logprobs >= 0) {
          logprob = token_logprob(event.token, event.logprob);
          logprob["top_logprobs"] = Json::array();
          for (const auto& [id, lp] : event.top_logprobs) logprob["top_logprobs"].push_back(token_logprob(id, lp));
        }
        if (!event.text.empty() || !logprob.is_null()) {
          {
            std::lock_guard lock(job->mutex);
            if (!event.text.empty()) {
              job->pieces.push_back(event.text);
              job->text += event.text;
            }
            if (!logprob.is_null()) job->logprobs.push_back(std::move(logprob));
          }
          job->changed.notify_all();
        }
        if (!event.finish_reason.empty()) {
          const std::shared_ptr<Job> done = job;
          generator_.forget(event.sequence);
          last_token_ms.erase(event.sequence);
          running_.erase(event.sequence);
          // The slot is free before the client hears, so a request it sends next is not refused as busy.
          active_ = int64_t(running_.size());
          finish(*done, event.finish_reason == "length" ? "length" : "stop");
        }
      }
    } catch (const std::exception& e) {
      // An engine failure is not the clients' fault: every running request gets a 500.
      spdlog::error("engine step failed: {}", e.what());
      active_ = 0;
      for (auto& [sequence, job] : running_) {
        generator_.cancel(sequence);
        generator_.forget(sequence);
        {
          std::lock_guard lock(job->mutex);
          job->error = ApiError(500, fmt::format("generation failed: {}", e.what()));
          job->done = true;
        }
        job->changed.notify_all();
      }
      running_.clear();
    }
    active_ = int64_t(running_.size());
  }
}

}  // namespace vlm::host::serve
