#pragma once
// The OpenAI chat-completions wire format: requests checked and turned into a Prompt (HF-style messages,
// images decoded) and generation settings; errors in OpenAI's shape ({"error": {message, type, param,
// code}}) with their HTTP status.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include "vlm/generate/generation_config.hpp"
#include "vlm/model/components.hpp"

namespace vlm::host::serve {

struct ApiError : std::runtime_error {
  ApiError(int status, const std::string& message, std::string param = "", std::string type = "",
           std::string code = "");
  int status;
  std::string type, param, code;
};

// {"error": {"message", "type", "param", "code"}}
std::string error_json(int status, const std::string& message, const std::string& param = "", std::string type = "",
                       const std::string& code = "");

// Where images may come from besides data: URLs.
struct ImagePolicy {
  std::optional<std::filesystem::path> allowed_dir;  // --allow-files: local paths and file:// URLs under it
  bool allow_remote = false;                         // --allow-remote-images: http(s) URLs
  size_t max_image_bytes = size_t(20) << 20;
  int remote_timeout_seconds = 10;
};

struct ChatRequest {
  Prompt prompt;
  GenerationConfig config;
  bool stream = false, include_usage = false;
  std::string model;
  int64_t images = 0;
};

// `defaults`: the checkpoint's generation settings (as `vlm run` uses them).
ChatRequest parse_chat_request(const std::string& body, const GenerationConfig& defaults, const ImagePolicy& images);

}  // namespace vlm::host::serve
