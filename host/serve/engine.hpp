#pragma once
// The server's engine: one thread owns the model's Generator and steps it; HTTP threads submit jobs and
// read their events. A job is admitted between steps as soon as a sequence slot is free (continuous
// batching; long prompts run in chunks beside the others' decoding), its images through the image-feature
// cache; a cancelled job (its client went away) leaves at the next step.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "metrics.hpp"
#include "openai.hpp"
#include "vlm/generate/feature_cache.hpp"
#include "vlm/generate/generator.hpp"

namespace vlm::host::serve {

struct Job {
  explicit Job(ChatRequest r) : request(std::move(r)) {}
  ChatRequest request;
  std::string id;  // chatcmpl-...
  int64_t created = 0;
  std::atomic<bool> cancelled{false};

  // Filled by the engine, read under `mutex`.
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> pieces;  // text not yet taken by a streaming reader
  // With logprobs: one OpenAI "content" entry per generated token ({token, logprob, bytes, top_logprobs});
  // `logprobs_taken` of them were already streamed.
  std::vector<Json> logprobs;
  size_t logprobs_taken = 0;
  std::string text;                // everything generated so far
  std::string finish_reason;       // "stop", "length" or "cancelled" once done
  std::optional<ApiError> error;   // a request the engine refused (e.g. too long for the context)
  bool done = false, admitted = false;
  int64_t prompt_tokens = 0, completion_tokens = 0, cached_images = 0;
  double queued_ms = 0, first_token_ms = -1, total_ms = 0;
};

struct EngineOptions {
  int64_t max_sequences = 4;
  int64_t max_queue = 64;
  int64_t max_length = 4096;  // positions per sequence (prompt + generated)
  DType kv_dtype = DType::F32;
  ImageFeatureCache* image_cache = nullptr;
};

class Engine {
 public:
  Engine(Model& model, const EngineOptions& options, Metrics& metrics);
  ~Engine();
  // nullptr when the queue is full (429) or the server is stopping (stopping() tells: 503).
  std::shared_ptr<Job> submit(ChatRequest request);
  bool stopping() const { return stopping_.load(); }
  // Stops taking jobs; waits up to `seconds` for the running ones, then cancels what is left.
  void drain(double seconds);
  int64_t queued() const;
  int64_t active() const { return active_.load(); }

 private:
  void loop();
  void admit(const std::shared_ptr<Job>& job);
  void finish(Job& job, const std::string& reason);
  Json token_logprob(int64_t token, float logprob) const;

  Model& model_;
  EngineOptions options_;
  Metrics& metrics_;
  Generator generator_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::map<SequenceId, std::shared_ptr<Job>> running_;
  std::atomic<int64_t> active_{0};
  std::atomic<bool> stopping_{false}, cancel_all_{false};
  std::atomic<uint64_t> next_id_{1};
  std::thread thread_;
};

}  // namespace vlm::host::serve
