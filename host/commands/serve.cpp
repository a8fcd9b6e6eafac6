// vlm serve: an OpenAI-compatible HTTP server (POST /v1/chat/completions with streaming, GET /v1/models,
// /health, /metrics) over the engine (host/serve/engine.cpp). Binds to 127.0.0.1 unless told otherwise;
// with --api-key (or VLM_API_KEY) every request needs "Authorization: Bearer KEY". One log line per request
// on stderr; SIGTERM stops accepting, lets running requests finish for --drain-seconds, then exits 0.
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "../command.hpp"
#include "../options.hpp"
#include "../serve/engine.hpp"
#include "vlm/model/processing.hpp"
#include "vlm/registry/loader.hpp"
#include "vlm/util/error.hpp"

namespace vlm::host {
namespace {

using namespace vlm::host::serve;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_terminate{false};
void on_signal(int) { g_terminate = true; }

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(error_json(e.status, e.what(), e.param, e.type, e.code), "application/json");
}

Json usage(const Job& job) {
  return {{"prompt_tokens", job.prompt_tokens},
          {"completion_tokens", job.completion_tokens},
          {"total_tokens", job.prompt_tokens + job.completion_tokens},
          {"prompt_tokens_details", {{"cached_images", job.cached_images}}}};
}

Json chunk(const Job& job, const std::string& model, const Json& delta, const Json& finish) {
  return {{"id", job.id},
          {"object", "chat.completion.chunk"},
          {"created", job.created},
          {"model", model},
          {"choices", Json::array({{{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", finish}}})}};
}

std::string sse(const Json& value) {
  return "data: " + value.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
}

}  // namespace

int serve_command(const std::vector<std::string>& args) {
  po::options_description options("vlm serve");
  add_model_options(options);
  options.add_options()
      ("host", po::value<std::string>()->default_value("127.0.0.1"), "address to bind (0.0.0.0: every interface)")
      ("port", value_between<int>("port", 0, 65535)->default_value(8080), "TCP port (0: any free one, logged)")
      ("max-sequences", value_between<int64_t>("max-sequences", 1, 256)->default_value(8), "requests generated at once")
      ("max-queue", value_between<int64_t>("max-queue", 0, 1 << 20)->default_value(64), "requests waiting beyond those; more get 429")
      ("context", value_between<int64_t>("context", 16, kMaxCount)->default_value(4096), "positions per request (prompt + generated)")
      ("api-key", po::value<std::string>(), "require Authorization: Bearer KEY (also from VLM_API_KEY)")
      ("allow-files", po::value<std::string>(), "allow image_url paths and file:// URLs under this folder")
      ("allow-remote-images", "allow http(s) image URLs (fetched with size and time limits)")
      ("max-body-mb", value_between<int64_t>("max-body-mb", 1, 4096)->default_value(32), "largest request body")
      ("max-image-mb", value_between<int64_t>("max-image-mb", 1, 1024)->default_value(20), "largest image")
      ("image-cache-mb", value_between<int64_t>("image-cache-mb", 0, 1 << 20)->default_value(1024),
       "vision features of recent images (a chat that resends an image skips the encoder)")
      ("drain-seconds", value_between<double>("drain-seconds", 0, 3600)->default_value(30), "on SIGTERM, time given to running requests");
  po::variables_map vm;
  if (!parse_options(args, "usage: vlm serve --model MODEL [--host 127.0.0.1] [--port 8080] [--max-sequences N] [--api-key KEY]",
                     options, {}, vm))
    return 0;
  std::string api_key = vm.count("api-key") ? vm["api-key"].as<std::string>() : "";
  if (api_key.empty())
    if (const char* env = std::getenv("VLM_API_KEY")) api_key = env;
  ImagePolicy policy;
  if (vm.count("allow-files")) policy.allowed_dir = vm["allow-files"].as<std::string>();
  policy.allow_remote = vm.count("allow-remote-images") != 0;
  policy.max_image_bytes = size_t(vm["max-image-mb"].as<int64_t>()) << 20;

  registry::LoadRequest request = load_request(vm);
  auto loaded = registry::load_model(request);
  if (!loaded.model->decoder()) fail("vlm serve needs a model that generates text; this one only scores");
  if (!PromptRenderer(loaded.checkpoint->dir()).has_template())
    fail("{}: the checkpoint has no chat template, which chat completions need", loaded.checkpoint->dir().string());
  GenerationConfig defaults = GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(),
                                                                loaded.checkpoint->config());
  if (loaded.resolved.named) defaults.apply(loaded.resolved.named->generation);
  const std::string model_name = vm["model"].as<std::string>();

  std::unique_ptr<ImageFeatureCache> cache;
  if (const int64_t mb = vm["image-cache-mb"].as<int64_t>(); mb > 0)
    cache = std::make_unique<ImageFeatureCache>(size_t(mb) << 20, image_cache_key(loaded, request), *loaded.backend);
  Metrics metrics;
  EngineOptions engine_options;
  engine_options.max_sequences = vm["max-sequences"].as<int64_t>();
  engine_options.max_queue = vm["max-queue"].as<int64_t>();
  engine_options.max_length = vm["context"].as<int64_t>();
  engine_options.kv_dtype = kv_dtype_option(vm);
  engine_options.image_cache = cache.get();
  Engine engine(*loaded.model, engine_options, metrics);

  httplib::Server server;
  server.set_payload_max_length(size_t(vm["max-body-mb"].as<int64_t>()) << 20);
  // An idle keep-alive connection holds a worker; a short wait keeps shutdown prompt.
  server.set_keep_alive_timeout(2);
  server.set_read_timeout(60, 0);
  server.new_task_queue = [&] { return new httplib::ThreadPool(std::max<int64_t>(16, engine_options.max_sequences * 2 + 4)); };
  server.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    if (api_key.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (req.get_header_value("Authorization") == "Bearer " + api_key) return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, ApiError(401, req.has_header("Authorization") ? "the API key is wrong" : "an API key is required (Authorization: Bearer KEY)",
                             "", "", "invalid_api_key"));
    return httplib::Server::HandlerResponse::Handled;
  });
  server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) send_error(res, ApiError(404, fmt::format("no route {} {}", req.method, req.path)));
    else if (res.status == 413) send_error(res, ApiError(413, "the request body is larger than --max-body-mb"));
    else if (res.status >= 400) send_error(res, ApiError(res.status, fmt::format("HTTP {}", res.status)));
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, ApiError(500, what));
  });
  server.set_logger([&](const httplib::Request& req, const httplib::Response& res) {
    metrics.request_done(res.status);
    if (req.path == "/v1/chat/completions" && res.status == 200) return;  // logged with its tokens
    spdlog::info("{} {} {}", req.method, req.path, res.status);
  });

  server.Get("/health", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(Json{{"status", "ok"}, {"active", engine.active()}, {"queued", engine.queued()}}.dump(), "application/json");
  });
  server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.render(engine.queued(), engine.active()), "text/plain; version=0.0.4");
  });
  server.Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) {
    const Json model = {{"id", model_name}, {"object", "model"}, {"created", 0}, {"owned_by", "vlm"}};
    res.set_content(Json{{"object", "list"}, {"data", Json::array({model})}}.dump(), "application/json");
  });
  server.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
    const auto start = Clock::now();
    ChatRequest chat;
    try {
      chat = parse_chat_request(req.body, defaults, policy);
    } catch (const ApiError& e) {
      return send_error(res, e);
    } catch (const std::exception& e) {  // a value of an unexpected JSON type, say: still the client's input
      return send_error(res, ApiError(400, fmt::format("invalid request: {}", e.what())));
    }
    const bool stream = chat.stream, include_usage = chat.include_usage;
    std::shared_ptr<Job> job = engine.submit(std::move(chat));
    if (!job && engine.stopping())
      return send_error(res, ApiError(503, "the server is shutting down", "", "server_error", "shutting_down"));
    if (!job) {
      res.set_header("Retry-After", "1");
      return send_error(res, ApiError(429, "the server is busy: every sequence slot and queue place is taken; retry", "", "", "server_busy"));
    }
    auto log_line = [start, job](int status) {
      spdlog::info("{} {} tokens in {} out {} cached images {} {:.0f} ms", job->id, status, job->prompt_tokens,
                   job->completion_tokens, job->cached_images,
                   std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    };
    if (!stream) {
      std::unique_lock lock(job->mutex);
      job->changed.wait(lock, [&] { return job->done; });
      if (job->error) {
        lock.unlock();
        return send_error(res, *job->error);
      }
      const Json body = {{"id", job->id},
                         {"object", "chat.completion"},
                         {"created", job->created},
                         {"model", model_name},
                         {"choices", Json::array({{{"index", 0},
                                                   {"message", {{"role", "assistant"}, {"content", job->text}}},
                                                   {"logprobs", job->request.config.logprobs >= 0
                                                                    ? Json{{"content", job->logprobs}}
                                                                    : Json()},
                                                   {"finish_reason", job->finish_reason}}})},
                         {"usage", usage(*job)}};
      res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
      log_line(200);
      return;
    }
    // Streaming: wait for admission first, so a refused prompt is a JSON error with its status.
    {
      std::unique_lock lock(job->mutex);
      job->changed.wait(lock, [&] { return job->done || job->admitted; });
      if (job->error) {
        lock.unlock();
        return send_error(res, *job->error);
      }
    }
    res.set_header("Cache-Control", "no-cache");
    auto sent_role = std::make_shared<bool>(false);
    res.set_chunked_content_provider(
        "text/event-stream",
        [job, sent_role, include_usage, model_name, log_line](size_t, httplib::DataSink& sink) {
          if (!*sent_role) {
            *sent_role = true;
            const std::string first = sse(chunk(*job, model_name, {{"role", "assistant"}, {"content", ""}}, nullptr));
            if (!sink.write(first.data(), first.size())) {
              job->cancelled = true;
              return false;
            }
          }
          std::unique_lock lock(job->mutex);
          job->changed.wait_for(lock, std::chrono::milliseconds(200), [&] {
            return job->done || !job->pieces.empty() || job->logprobs_taken < job->logprobs.size();
          });
          std::string out;
          const bool with_logprobs = job->request.config.logprobs >= 0;
          while (!job->pieces.empty() || (with_logprobs && job->logprobs_taken < job->logprobs.size())) {
            Json c = chunk(*job, model_name, {{"content", job->pieces.empty() ? "" : job->pieces.front()}}, nullptr);
            if (!job->pieces.empty()) job->pieces.pop_front();
            if (with_logprobs) {
              // The tokens generated since the last chunk (a piece may span several, or none yet).
              Json entries = Json::array();
              for (; job->logprobs_taken < job->logprobs.size(); ++job->logprobs_taken)
                entries.push_back(job->logprobs[job->logprobs_taken]);
              c["choices"][0]["logprobs"] = {{"content", entries}};
            }
            out += sse(c);
          }
          const bool done = job->done;
          if (done) {
            if (job->error) {
              out += sse(Json::parse(error_json(job->error->status, job->error->what())));
            } else {
              out += sse(chunk(*job, model_name, Json::object(), job->finish_reason));
              if (include_usage) {
                Json u = chunk(*job, model_name, Json::object(), nullptr);
                u["choices"] = Json::array();
                u["usage"] = usage(*job);
                out += sse(u);
              }
            }
            out += "data: [DONE]\n\n";
          }
          lock.unlock();
          // A client that went away: its sequence is cancelled at the engine's next step.
          if (!sink.is_writable() || (!out.empty() && !sink.write(out.data(), out.size()))) {
            job->cancelled = true;
            return false;
          }
          if (done) {
            sink.done();
            log_line(200);
          }
          return true;
        },
        [job](bool success) {
          if (!success) job->cancelled = true;
        });
  });

  int port = vm["port"].as<int>();
  const std::string host = vm["host"].as<std::string>();
  if (port == 0) port = server.bind_to_any_port(host);
  else if (!server.bind_to_port(host, port)) port = -1;
  if (port <= 0) fail("cannot listen on {}:{} (in use, or not an address of this machine)", host, vm["port"].as<int>());
  spdlog::info("listening on http://{}:{}{}", host, port, api_key.empty() ? "" : " (API key required)");
  if (host != "127.0.0.1" && host != "localhost" && host != "::1" && api_key.empty())
    spdlog::warn("listening on {} without an API key: anyone who can reach this address can use the model", host);

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::thread watcher([&] {
    while (!g_terminate) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    spdlog::info("stopping: no new requests; running ones get up to {} s", vm["drain-seconds"].as<double>());
    engine.drain(vm["drain-seconds"].as<double>());
    server.stop();
  });
  server.listen_after_bind();
  g_terminate = true;
  watcher.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace vlm::host
