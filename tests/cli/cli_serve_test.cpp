// `vlm serve` end to end on a tiny synthetic Qwen2-VL: the server runs as a child process on a free loopback
// port and is driven over HTTP (cpp-httplib's client). Non-streaming and streaming completions with an
// image (the same text as `vlm run`), 8 concurrent clients (each the same as alone), the image cache, a
// client that disconnects, every error status, and SIGTERM.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "cli_support.hpp"

namespace {

const fs::path kImage = fs::path(VLM_SOURCE_DIR) / "configs" / "eval" / "shapes" / "images" / "shapes_05.png";

// A `vlm serve` child process (fork + exec, no shell); its port is read from its log.
struct Server {
  explicit Server(const std::vector<std::string>& extra) : dir(vlm::test::temp_dir("cli-serve")) {
    std::vector<std::string> args = {VLM_BINARY, "serve", "--model", tiny_qwen2_vl().string(), "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    const std::string log = (dir / "log").string();
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), out = ::open("/dev/null", O_WRONLY);
      ::dup2(err, 2);
      ::dup2(out, 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 1000 && port == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      const std::string text = read_file(dir / "log");
      const size_t at = text.find("listening on http://127.0.0.1:");
      if (at != std::string::npos) port = std::atoi(text.c_str() + at + 30);
    }
    INFO(read_file(dir / "log"));
    REQUIRE(port > 0);
  }
  ~Server() {
    if (!stopped) terminate();
  }
  // SIGTERM; the server's exit code (-1 if it did not exit within a minute, then it is killed).
  int terminate() {
    stopped = true;
    ::kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 6000; ++i) {
      if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    return c;
  }
  fs::path dir;
  pid_t pid = -1;
  int port = 0;
  bool stopped = false;
};

ordered_json chat(const std::string& text, bool image, int max_tokens, bool stream = false) {
  ordered_json content = ordered_json::array();
  if (image)
    content.push_back({{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + base64(read_file(kImage))}}}});
  content.push_back({{"type", "text"}, {"text", text}});
  ordered_json body = {{"model", "tiny"}, {"messages", {{{"role", "user"}, {"content", content}}}}, {"max_tokens", max_tokens},
                       {"temperature", 0}};
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  return body;
}

std::string post(const Server& s, const ordered_json& body, int* status = nullptr) {
  auto res = s.client().Post("/v1/chat/completions", body.dump(), "application/json");
  REQUIRE(res);
  if (status) *status = res->status;
  return res->body;
}

// The text of a streamed completion and its chunks.
std::string streamed_text(const std::string& sse, ordered_json* usage = nullptr, bool* done = nullptr) {
  std::string text;
  std::istringstream in(sse);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("data: ", 0) != 0) continue;
    const std::string data = line.substr(6);
    if (data == "[DONE]") {
      if (done) *done = true;
      continue;
    }
    const auto chunk = ordered_json::parse(data);
    CHECK(chunk["object"] == "chat.completion.chunk");
    if (chunk.contains("usage") && usage) *usage = chunk["usage"];
    for (const auto& c : chunk["choices"])
      if (c["delta"].contains("content")) text += c["delta"]["content"].get<std::string>();
  }
  return text;
}

}  // namespace

TEST_CASE("vlm serve answers chat completions as vlm run does, streaming or not, alone or among 8", "[cli][serve][model]") {
  Server server({"--max-sequences", "4", "--max-queue", "16"});
  int status = 0;
  const auto body = ordered_json::parse(post(server, chat("Describe the picture.", true, 12), &status));
  REQUIRE(status == 200);
  const std::string text = body["choices"][0]["message"]["content"];
  CHECK(body["object"] == "chat.completion");
  CHECK(body["usage"]["completion_tokens"] == 12);
  CHECK(body["choices"][0]["finish_reason"] == "length");
  // The same as `vlm run` on the same message.
  const auto run = run_vlm({"run", "--model", tiny_qwen2_vl().string(), "--image", kImage.string(), "--prompt",
                            "Describe the picture.", "--greedy", "--max-new-tokens", "12"});
  REQUIRE(run.exit_code == 0);
  CHECK(run.out == text + "\n");

  // Streaming gives the same text in pieces, then a usage chunk and [DONE]; the image now comes from the cache.
  auto res = server.client().Post("/v1/chat/completions", chat("Describe the picture.", true, 12, true).dump(), "application/json");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "text/event-stream");
  ordered_json usage;
  bool done = false;
  CHECK(streamed_text(res->body, &usage, &done) == text);
  CHECK(done);
  CHECK(usage["completion_tokens"] == 12);
  CHECK(usage["prompt_tokens_details"]["cached_images"] == 1);

  // 8 concurrent clients: each gets what it gets alone.
  std::vector<std::string> prompts, alone(8), together(8);
  for (int i = 0; i < 8; ++i) prompts.push_back(fmt::format("Question {}: what is shown?{}", i, std::string(size_t(i * 3), '!')));
  for (int i = 0; i < 8; ++i)
    alone[size_t(i)] = ordered_json::parse(post(server, chat(prompts[size_t(i)], i % 2 == 0, 10 + i)))["choices"][0]["message"]["content"];
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&, i] {
      auto c = server.client();
      auto r = c.Post("/v1/chat/completions", chat(prompts[size_t(i)], i % 2 == 0, 10 + i).dump(), "application/json");
      if (r && r->status == 200) together[size_t(i)] = ordered_json::parse(r->body)["choices"][0]["message"]["content"];
    });
  for (auto& t : clients) t.join();
  for (int i = 0; i < 8; ++i) CHECK(together[size_t(i)] == alone[size_t(i)]);

  // Log-probabilities: one entry per generated token; greedy picks the most likely one.
  ordered_json with_logprobs = chat("Describe the picture.", false, 5);
  with_logprobs["logprobs"] = true;
  with_logprobs["top_logprobs"] = 3;
  const auto lp = ordered_json::parse(post(server, with_logprobs));
  const auto& entries = lp["choices"][0]["logprobs"]["content"];
  REQUIRE(entries.size() == 5);
  std::string joined;
  for (const auto& e : entries) {
    CHECK(e["logprob"].get<double>() <= 0.0);
    REQUIRE(e["top_logprobs"].size() == 3);
    CHECK(e["top_logprobs"][0]["logprob"] == e["logprob"]);
    CHECK(e["top_logprobs"][1]["logprob"].get<double>() <= e["top_logprobs"][0]["logprob"].get<double>());
    joined += e["token"].get<std::string>();
  }
  CHECK(joined == lp["choices"][0]["message"]["content"].get<std::string>());

  auto models = server.client().Get("/v1/models");
  REQUIRE(models);
  CHECK(ordered_json::parse(models->body)["data"][0]["object"] == "model");
  auto metrics = server.client().Get("/metrics");
  REQUIRE(metrics);
  CHECK_THAT(metrics->body, Catch::Contains("vlm_requests_total{status=\"200\"}") &&
                                Catch::Contains("vlm_time_to_first_token_seconds_bucket") &&
                                Catch::Contains("vlm_image_cache_hits_total"));
  CHECK(server.terminate() == 0);
}

TEST_CASE("vlm serve answers bad requests with OpenAI-shaped errors and the right status", "[cli][serve][model]") {
  Server server({"--context", "128", "--max-body-mb", "1", "--api-key", "sekrit"});
  auto c = server.client();
  c.set_bearer_token_auth("sekrit");
  auto error_of = [&](const std::string& body, const char* path = "/v1/chat/completions") {
    auto r = c.Post(path, body, "application/json");
    REQUIRE(r);
    const auto j = ordered_json::parse(r->body);
    REQUIRE(j.contains("error"));
    CHECK(j["error"].contains("message"));
    CHECK(j["error"].contains("type"));
    return std::pair{r->status, j["error"]};
  };
  CHECK(error_of("{not json").first == 400);
  // A number no double holds is nlohmann's out_of_range, not a parse_error: still the client's 400 (fuzz finding).
  CHECK(error_of(R"({"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 1e999})").first == 400);
  CHECK(error_of(R"({"model": 0, "messages": [{"role": "user", "content": "hi"}]})").first == 400);  // fuzz finding
  // 100000 levels deep (inside the 1 MB body limit): refused by the depth limit, the server survives.
  const std::string deep = R"({"messages": )" + std::string(100000, '[') + std::string(100000, ']') + "}";
  const auto [deep_status, deep_error] = error_of(deep);
  CHECK(deep_status == 400);
  CHECK_THAT(deep_error["message"].get<std::string>(), Catch::Contains("nested deeper"));
  auto [status, e] = error_of(R"({"messages": [{"role": "user", "content": [{"type": "audio", "x": 1}]}]})");
  CHECK(status == 400);
  CHECK(e["param"] == "messages[0].content[0].type");
  ordered_json bad_image = chat("x", false, 4);
  bad_image["messages"][0]["content"].push_back({{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + base64("not a png")}}}});
  std::tie(status, e) = error_of(bad_image.dump());
  CHECK(status == 400);
  CHECK(e["code"] == "invalid_image");
  ordered_json local = chat("x", false, 4);
  local["messages"][0]["content"].push_back({{"type", "image_url"}, {"image_url", {{"url", kImage.string()}}}});
  std::tie(status, e) = error_of(local.dump());
  CHECK(status == 400);
  CHECK_THAT(e["message"].get<std::string>(), Catch::Contains("--allow-files"));
  ordered_json wrong_type = chat("x", false, 4);
  wrong_type["model"] = 5;
  wrong_type["response_format"] = {{"type", 7}};
  CHECK(error_of(wrong_type.dump()).first == 400);  // never a 500 for the client's input
  ordered_json n2 = chat("x", false, 4);
  n2["n"] = 2;
  CHECK(error_of(n2.dump()).first == 400);
  ordered_json tools = chat("x", false, 4);
  tools["tools"] = ordered_json::array({{{"type", "function"}}});
  CHECK(error_of(tools.dump()).second["code"] == "unsupported_parameter");
  ordered_json unknown = chat("x", false, 4);
  unknown["frobnicate"] = true;
  CHECK(error_of(unknown.dump()).second["param"] == "frobnicate");
  std::string words;
  for (int i = 0; i < 400; ++i) words += "word ";
  std::tie(status, e) = error_of(chat(words, false, 4).dump());
  CHECK(status == 400);
  CHECK(e["code"] == "context_length_exceeded");
  CHECK(error_of(std::string(2 << 20, ' ')).first == 413);
  auto missing = c.Get("/v2/nothing");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(ordered_json::parse(missing->body)["error"]["type"] == "not_found_error");
  // No key, a wrong key.
  auto anonymous = server.client().Get("/v1/models");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  auto wrong = server.client();
  wrong.set_bearer_token_auth("guess");
  auto w = wrong.Get("/v1/models");
  REQUIRE(w);
  CHECK(w->status == 401);
  CHECK(ordered_json::parse(w->body)["error"]["code"] == "invalid_api_key");
  // The server is still fine.
  int ok = 0;
  post(server, chat("hello", false, 4), &ok);
  CHECK(ok == 401);  // post() sends no key
  auto good = c.Post("/v1/chat/completions", chat("hello", false, 4).dump(), "application/json");
  REQUIRE(good);
  CHECK(good->status == 200);
}

TEST_CASE("vlm serve: a full server answers 429, a departed client frees its slot, SIGTERM drains", "[cli][serve][model]") {
  Server server({"--max-sequences", "1", "--max-queue", "0", "--context", "16384"});
  // A long stream holds the only slot; a second request meanwhile is refused with Retry-After.
  std::atomic<bool> first_chunk{false}, hang_up{false};
  std::thread holder([&] {
    auto c = server.client();
    size_t seen = 0;
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.body = chat("go on", false, 12000, true).dump();
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char*, size_t n, uint64_t, uint64_t) {
      seen += n;
      first_chunk = true;
      return !hang_up;  // hang up once the second request has been tried
    };
    httplib::Response res;
    httplib::Error error = httplib::Error::Success;
    c.send(req, res, error);
  });
  for (int i = 0; i < 500 && !first_chunk; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(first_chunk);
  auto busy = server.client().Post("/v1/chat/completions", chat("me too", false, 4).dump(), "application/json");
  hang_up = true;
  REQUIRE(busy);
  const bool refused = busy->status == 429;
  holder.join();
  CHECK(refused);
  if (refused) CHECK(busy->get_header_value("Retry-After") == "1");
  // The client hung up: its sequence is cancelled, far short of its 12000 tokens.
  bool freed = false;
  for (int i = 0; i < 200 && !freed; ++i) {
    auto health = server.client().Get("/health");
    freed = health && ordered_json::parse(health->body)["active"] == 0;
    if (!freed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(freed);
  auto metrics = server.client().Get("/metrics");
  REQUIRE(metrics);
  const std::string m = metrics->body;
  const size_t at = m.find("\nvlm_completion_tokens_total ");
  REQUIRE(at != std::string::npos);
  CHECK(std::atoll(m.c_str() + at + 29) < 12000);
  int status = 0;
  post(server, chat("after", false, 4), &status);
  CHECK(status == 200);

  // SIGTERM while a request runs: it finishes, then the server exits 0.
  std::string streamed;
  std::thread last([&] {
    auto c = server.client();
    auto r = c.Post("/v1/chat/completions", chat("finish me", false, 300, true).dump(), "application/json");
    if (r) streamed = r->body;
  });
  bool running = false;
  for (int i = 0; i < 1000 && !running; ++i) {
    auto health = server.client().Get("/health");
    running = health && ordered_json::parse(health->body)["active"] == 1;
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(server.terminate() == 0);
  last.join();
  CHECK_THAT(streamed, Catch::EndsWith("data: [DONE]\n\n"));
}
