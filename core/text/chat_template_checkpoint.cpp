// Where Hugging Face finds a checkpoint's chat template, and the variables apply_chat_template passes.
#include <fstream>
#include <sstream>

#include "vlm/text/chat_template.hpp"

namespace vlm {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot read file", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

OrderedJson read_json(const std::filesystem::path& path) {
  const std::string text = read_text(path);
  check_json_depth(text, path.string());
  try {
    return OrderedJson::parse(text);
  } catch (const OrderedJson::exception& e) {
    fail("{}: {}", path.string(), e.what());
  }
}

// tokenizer_config.json "chat_template": a string, or [{"name": ..., "template": ...}, ...].
std::string pick_template(const OrderedJson& value, const std::filesystem::path& file, const std::string& name) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_array()) fail("{}: \"chat_template\" must be a string or a list of {{name, template}}", file.string());
  const std::string wanted = name.empty() ? "default" : name;
  std::string available;
  for (const auto& entry : value) {
    if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") || !entry["template"].is_string())
      fail("{}: \"chat_template\" list entries must be {{name, template}} objects", file.string());
    std::string entry_name = entry["name"].is_string() ? entry["name"].get<std::string>() : "";
    if (entry_name == wanted) return entry["template"].get<std::string>();
    available += (available.empty() ? "" : ", ") + entry_name;
  }
  fail("{}: no chat template named '{}' (available: {})", file.string(), wanted, available);
}

}  // namespace

std::optional<ChatTemplateSource> find_chat_template(const std::filesystem::path& dir, const std::string& name) {
  if (auto path = dir / "chat_template.jinja"; std::filesystem::is_regular_file(path))
    return ChatTemplateSource{read_text(path), path.string()};
  for (const char* file : {"chat_template.json", "processor_config.json", "tokenizer_config.json"}) {
    auto path = dir / file;
    if (!std::filesystem::is_regular_file(path)) continue;
    OrderedJson config = read_json(path);
    if (!config.is_object() || !config.contains("chat_template") || config["chat_template"].is_null()) continue;
    return ChatTemplateSource{pick_template(config["chat_template"], path, name), path.string()};
  }
  return std::nullopt;
}

OrderedJson chat_template_context(const OrderedJson& messages, const OrderedJson& tokenizer_config,
                                  const ChatTemplateOptions& options) {
  // A special token is a string or an AddedToken object; HF's special_tokens_map leaves out unset ones.
  auto token_text = [](const OrderedJson& token) -> std::string {
    if (token.is_string()) return token.get<std::string>();
    if (token.is_object() && token.contains("content") && token["content"].is_string())
      return token["content"].get<std::string>();
    return "";
  };
  OrderedJson context = OrderedJson::object();
  context["messages"] = messages;
  context["tools"] = options.tools;
  context["documents"] = options.documents;
  context["add_generation_prompt"] = options.add_generation_prompt;
  if (tokenizer_config.is_object()) {
    for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
      if (!tokenizer_config.contains(key)) continue;
      std::string text = token_text(tokenizer_config[key]);
      if (!text.empty()) context[key] = text;
    }
    if (tokenizer_config.contains("additional_special_tokens") && tokenizer_config["additional_special_tokens"].is_array()) {
      OrderedJson extra_tokens = OrderedJson::array();
      for (const auto& token : tokenizer_config["additional_special_tokens"]) {
        std::string text = token_text(token);
        if (!text.empty()) extra_tokens.push_back(text);
      }
      if (!extra_tokens.empty()) context["additional_special_tokens"] = extra_tokens;
    }
  }
  if (options.extra.is_object())
    for (const auto& [key, value] : options.extra.items()) context[key] = value;
  return context;
}

}  // namespace vlm
