#include "openai.hpp"

#include <httplib.h>

#include <fmt/format.h>

#include "vlm/image/load.hpp"
#include "vlm/util/error.hpp"

namespace vlm::host::serve {

namespace fs = std::filesystem;

namespace {

std::string default_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

[[noreturn]] void bad(const std::string& message, const std::string& param = "", const std::string& code = "") {
  throw ApiError(400, message, param, "", code);
}

double number(const Json& body, const char* key, double lo, double hi, bool lo_open = false) {
  const Json& v = body[key];
  if (!v.is_number()) bad(fmt::format("'{}' must be a number", key), key);
  const double x = v.get<double>();
  if (!(x >= lo) || (lo_open && x == lo) || x > hi)
    bad(fmt::format("'{}' must be {} {} and at most {}, got {}", key, lo_open ? "above" : "at least", lo, hi, x), key);
  return x;
}

int64_t integer(const Json& body, const char* key, int64_t lo, int64_t hi) {
  const Json& v = body[key];
  if (!v.is_number_integer()) bad(fmt::format("'{}' must be an integer", key), key);
  const int64_t x = v.get<int64_t>();
  if (x < lo || x > hi) bad(fmt::format("'{}' must be between {} and {}, got {}", key, lo, hi, x), key);
  return x;
}

std::string fetch_remote(const std::string& url, const ImagePolicy& policy, const std::string& param) {
  // scheme://host[:port]/path
  const size_t scheme_end = url.find("://");
  const size_t path_start = url.find('/', scheme_end + 3);
  const std::string origin = url.substr(0, path_start), path = path_start == std::string::npos ? "/" : url.substr(path_start);
  httplib::Client client(origin);
  client.set_connection_timeout(policy.remote_timeout_seconds, 0);
  client.set_read_timeout(policy.remote_timeout_seconds, 0);
  client.set_follow_location(false);
  std::string body;
  bool too_large = false;
  auto result = client.Get(path, [&](const char* data, size_t length) {
    if (body.size() + length > policy.max_image_bytes) {
      too_large = true;
      return false;
    }
    body.append(data, length);
    return true;
  });
  if (too_large) bad(fmt::format("the image at {} is larger than {} bytes", url, policy.max_image_bytes), param);
  if (!result) bad(fmt::format("cannot fetch {}: {}", url, httplib::to_string(result.error())), param);
  if (result->status != 200) bad(fmt::format("cannot fetch {}: HTTP {}", url, result->status), param);
  return body;
}

Image load_url(const std::string& url, const ImagePolicy& policy, const std::string& param, RequestPixels& pixels) {
  ImageLoadOptions options;
  options.request = &pixels;
  try {
    if (url.rfind("data:", 0) == 0) {
      const std::string bytes = data_uri_bytes(url);
      if (bytes.size() > policy.max_image_bytes) bad(fmt::format("the image is larger than {} bytes", policy.max_image_bytes), param);
      return decode_image(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), param, options);
    }
    if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
      if (!policy.allow_remote)
        bad("remote image URLs are disabled (start the server with --allow-remote-images); send a data: URL", param);
      const std::string bytes = fetch_remote(url, policy, param);
      return decode_image(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), url, options);
    }
    std::string path = url.rfind("file://", 0) == 0 ? url.substr(7) : url;
    if (!policy.allowed_dir)
      bad("local image files are disabled (start the server with --allow-files DIR); send a data: URL", param);
    std::error_code error;
    const fs::path resolved = fs::weakly_canonical(path, error);
    const fs::path root = fs::weakly_canonical(*policy.allowed_dir, error);
    const auto mismatch = std::mismatch(root.begin(), root.end(), resolved.begin(), resolved.end());
    if (error || mismatch.first != root.end())
      bad(fmt::format("{} is outside the folder allowed with --allow-files", path), param);
    if (fs::file_size(resolved, error) > policy.max_image_bytes && !error)
      bad(fmt::format("{} is larger than {} bytes", path, policy.max_image_bytes), param);
    return load_image(resolved, options);
  } catch (const ApiError&) {
    throw;
  } catch (const Error& e) {
    bad(fmt::format("bad image: {}", e.what()), param, "invalid_image");
  }
}

}  // namespace

ApiError::ApiError(int status_, const std::string& message, std::string param_, std::string type_, std::string code_)
    : std::runtime_error(message),
      status(status_),
      type(type_.empty() ? default_type(status_) : std::move(type_)),
      param(std::move(param_)),
      code(std::move(code_)) {}

std::string error_json(int status, const std::string& message, const std::string& param, std::string type,
                       const std::string& code) {
  Json error = {{"message", message},
                {"type", type.empty() ? default_type(status) : type},
                {"param", param.empty() ? Json() : Json(param)},
                {"code", code.empty() ? Json() : Json(code)}};
  return Json{{"error", error}}.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The body, checked field by field; parse_chat_request adds the net for any type the checks miss.
static ChatRequest parse_chat_body(const std::string& text, const GenerationConfig& defaults, const ImagePolicy& policy) {
  Json body;
  try {
    check_json_depth(text, "the body");
  } catch (const Error& e) {
    bad(e.what());
  }
  try {
    body = Json::parse(text);
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    bad(fmt::format("the body is not valid JSON: {}", e.what()));
  }
  if (!body.is_object()) bad("the body must be a JSON object");
  static const std::vector<std::string> known = {
      "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "stop", "stream",
      "stream_options", "logprobs", "top_logprobs", "top_k", "min_p", "repetition_penalty", "n", "user",
      "frequency_penalty", "presence_penalty", "tools", "tool_choice", "functions", "function_call",
      "response_format", "logit_bias", "parallel_tool_calls", "store", "metadata", "service_tier", "modalities"};
  for (const auto& [key, value] : body.items())
    if (std::find(known.begin(), known.end(), key) == known.end()) bad(fmt::format("unknown parameter '{}'", key), key);
  auto unsupported = [&](const char* key, const std::string& why) {
    bad(fmt::format("'{}' is not supported: {}", key, why), key, "unsupported_parameter");
  };
  for (const char* key : {"tools", "tool_choice", "functions", "function_call", "parallel_tool_calls"})
    if (body.contains(key) && !body[key].is_null()) unsupported(key, "this server does not call tools");
  if (body.contains("n") && !(body["n"].is_number_integer() && body["n"] == 1)) unsupported("n", "one choice per request (n = 1)");
  if (body.contains("logit_bias") && !body["logit_bias"].is_null() && !body["logit_bias"].empty())
    unsupported("logit_bias", "no logit bias");
  for (const char* key : {"frequency_penalty", "presence_penalty"})
    if (body.contains(key) && !(body[key].is_number() && body[key].get<double>() == 0.0))
      unsupported(key, "use repetition_penalty (the Hugging Face penalty) instead");
  if (body.contains("response_format") && !(body["response_format"].is_object() && body["response_format"].value("type", "") == "text"))
    unsupported("response_format", "only text responses");
  if (body.contains("modalities") && body["modalities"] != Json::array({"text"})) unsupported("modalities", "text output only");

  ChatRequest request;
  if (body.contains("model") && !body["model"].is_string() && !body["model"].is_null())
    bad("'model' must be a string", "model");
  request.model = body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : "";
  if (body.contains("stream")) {
    if (!body["stream"].is_boolean()) bad("'stream' must be true or false", "stream");
    request.stream = body["stream"].get<bool>();
  }
  if (body.contains("stream_options") && !body["stream_options"].is_null()) {
    const Json& o = body["stream_options"];
    if (!o.is_object()) bad("'stream_options' must be an object", "stream_options");
    if (o.contains("include_usage")) {
      if (!o["include_usage"].is_boolean()) bad("'stream_options.include_usage' must be true or false", "stream_options");
      request.include_usage = o["include_usage"].get<bool>();
    }
  }

  // Generation: the checkpoint's defaults, then what the request asks.
  request.config = defaults;
  GenerationConfig& c = request.config;
  for (const char* key : {"max_completion_tokens", "max_tokens"})
    if (body.contains(key) && !body[key].is_null()) c.max_new_tokens = integer(body, key, 1, 1 << 20);
  bool sampling = false;
  if (body.contains("temperature") && !body["temperature"].is_null()) {
    const double t = number(body, "temperature", 0, 2);
    if (t == 0) c.do_sample = false;
    else {
      c.temperature = t;
      sampling = true;
    }
  }
  if (body.contains("top_p") && !body["top_p"].is_null()) {
    c.top_p = number(body, "top_p", 0, 1, true);
    sampling = sampling || c.top_p < 1;
  }
  if (body.contains("top_k") && !body["top_k"].is_null()) {
    c.top_k = integer(body, "top_k", 0, 1 << 20);
    sampling = true;
  }
  if (body.contains("min_p") && !body["min_p"].is_null()) {
    c.min_p = number(body, "min_p", 0, 1);
    sampling = true;
  }
  if (body.contains("repetition_penalty") && !body["repetition_penalty"].is_null())
    c.repetition_penalty = number(body, "repetition_penalty", 0, 100, true);
  if (body.contains("seed") && !body["seed"].is_null()) c.seed = uint64_t(integer(body, "seed", INT64_MIN, INT64_MAX));
  if (sampling && !(body.contains("temperature") && body["temperature"] == 0)) c.do_sample = true;
  if (body.contains("logprobs") && !body["logprobs"].is_null()) {
    if (!body["logprobs"].is_boolean()) bad("'logprobs' must be true or false", "logprobs");
    if (body["logprobs"].get<bool>()) c.logprobs = 0;
  }
  if (body.contains("top_logprobs") && !body["top_logprobs"].is_null()) {
    const int64_t n = integer(body, "top_logprobs", 0, 20);
    if (c.logprobs < 0) bad("'top_logprobs' needs 'logprobs': true", "top_logprobs");
    c.logprobs = n;
  }
  if (body.contains("stop") && !body["stop"].is_null()) {
    const Json& s = body["stop"];
    std::vector<std::string> stops;
    if (s.is_string()) stops.push_back(s.get<std::string>());
    else if (s.is_array())
      for (const auto& x : s) {
        if (!x.is_string()) bad("'stop' must be a string or a list of strings", "stop");
        stops.push_back(x.get<std::string>());
      }
    else bad("'stop' must be a string or a list of strings", "stop");
    if (stops.size() > 16) bad("'stop' takes at most 16 strings", "stop");
    for (const auto& x : stops)
      if (x.empty()) bad("'stop' strings must not be empty", "stop");
    c.stop_strings.insert(c.stop_strings.end(), stops.begin(), stops.end());
  }

  // Messages -> the HF conversation the chat template renders, images in order.
  if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
    bad("'messages' must be a non-empty list", "messages");
  OrderedJson messages = OrderedJson::array();
  RequestPixels pixels;  // all the request's images together
  for (size_t i = 0; i < body["messages"].size(); ++i) {
    const Json& m = body["messages"][i];
    const std::string where = fmt::format("messages[{}]", i);
    if (!m.is_object()) bad(where + " must be an object", where);
    if (!m.contains("role") || !m["role"].is_string()) bad(where + ".role must be a string", where + ".role");
    std::string role = m["role"].get<std::string>();
    if (role == "developer") role = "system";
    if (role != "system" && role != "user" && role != "assistant")
      bad(fmt::format("{}.role '{}' is not system, user or assistant", where, role), where + ".role");
    OrderedJson message = {{"role", role}};
    const Json content = m.contains("content") ? m["content"] : Json();
    if (content.is_string()) {
      message["content"] = content.get<std::string>();
    } else if (content.is_array()) {
      OrderedJson parts = OrderedJson::array();
      for (size_t j = 0; j < content.size(); ++j) {
        const Json& part = content[j];
        const std::string pw = fmt::format("{}.content[{}]", where, j);
        if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
          bad(pw + " must be an object with a type", pw);
        const std::string type = part["type"].get<std::string>();
        if (type == "text") {
          if (!part.contains("text") || !part["text"].is_string()) bad(pw + ".text must be a string", pw + ".text");
          parts.push_back({{"type", "text"}, {"text", part["text"].get<std::string>()}});
        } else if (type == "image_url") {
          const Json& iu = part.contains("image_url") ? part["image_url"] : Json();
          const Json url = iu.is_object() ? iu.value("url", Json()) : iu;
          if (!url.is_string()) bad(pw + ".image_url.url must be a string", pw + ".image_url");
          request.prompt.images.push_back(load_url(url.get<std::string>(), policy, pw + ".image_url", pixels));
          ++request.images;
          parts.push_back({{"type", "image"}});
        } else {
          bad(fmt::format("{}.type '{}' is not supported (text, image_url)", pw, type), pw + ".type");
        }
      }
      message["content"] = parts;
    } else if (content.is_null() && role == "assistant") {
      message["content"] = "";
    } else {
      bad(where + ".content must be a string or a list of parts", where + ".content");
    }
    messages.push_back(message);
  }
  request.prompt.messages = messages;
  request.prompt.add_generation_prompt = true;
  return request;
}

ChatRequest parse_chat_request(const std::string& text, const GenerationConfig& defaults, const ImagePolicy& policy) {
  try {
    return parse_chat_body(text, defaults, policy);
  } catch (const Json::exception& e) {  // a value of a type no check above foresaw: still the client's 400
    bad(fmt::format("the body has a value of an unexpected type: {}", e.what()));
  }
}

}  // namespace vlm::host::serve
