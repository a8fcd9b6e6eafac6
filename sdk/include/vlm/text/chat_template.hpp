#pragma once
// Hugging Face chat templates. ChatTemplate is a Jinja engine that renders exactly what Python jinja2 renders
// under transformers' settings (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loop controls,
// HF's tojson, raise_exception and strftime_now). find_chat_template and chat_template_context reproduce
// where apply_chat_template finds a checkpoint's template and which variables it passes in.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "vlm/io/config.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

// Mappings keep their insertion order, as Python dicts do: a template's `tojson` and `items()` show it.
using OrderedJson = nlohmann::ordered_json;

// A template that does not parse, or fails while rendering (raise_exception included).
// what() is "<origin>:<line>:<column>: <message>" (column 0 when only the line is known);
// message() is the bare text, e.g. the argument of raise_exception.
class TemplateError : public Error {
 public:
  TemplateError(const std::string& message, const std::string& origin, int line, int column);
  const std::string& message() const { return message_; }
  const std::string& origin() const { return origin_; }
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  std::string message_, origin_;
  int line_, column_;
};

namespace jinja {
struct Program;
}

class ChatTemplate {
 public:
  // Parses once; `origin` names the template in error messages (usually the file it came from).
  static ChatTemplate parse(std::string source, std::string origin = "<template>");
  // Renders with the variables of `context` (a JSON object). Thread-safe: a parsed template is immutable.
  // A vlm::Json context converts implicitly, but its objects are sorted by key, so pass OrderedJson
  // whenever the template serialises mappings. With `strict_undefined`, printing an undefined value (a
  // missing variable or key) is a TemplateError instead of "" (jinja2's StrictUndefined when printed).
  std::string render(const OrderedJson& context, bool strict_undefined = false) const;
  const std::string& origin() const;

 private:
  std::shared_ptr<const jinja::Program> program_;
};

struct ChatTemplateSource {
  std::string source;
  std::string origin;  // the file it was read from, e.g. ".../tokenizer_config.json"
};

// The checkpoint's chat template, looked up where Hugging Face looks: chat_template.jinja,
// chat_template.json ("chat_template"), processor_config.json ("chat_template"), tokenizer_config.json
// ("chat_template": a string, or a list of {name, template}). From a list, `name` picks the entry
// ("default" when empty). nullopt when the checkpoint has none; malformed files are an Error.
std::optional<ChatTemplateSource> find_chat_template(const std::filesystem::path& checkpoint_dir,
                                                     const std::string& name = "");

struct ChatTemplateOptions {
  bool add_generation_prompt = true;
  OrderedJson tools = nullptr;      // list of tool schemas, or null
  OrderedJson documents = nullptr;  // list of documents, or null
  OrderedJson extra = OrderedJson::object();  // further template kwargs (date_string, add_vision_id, ...)
};

// The variables apply_chat_template gives the template: messages, tools, documents,
// add_generation_prompt, the special tokens of tokenizer_config.json that are set (bos_token, eos_token,
// unk_token, sep_token, pad_token, cls_token, mask_token as strings, AddedToken objects reduced to their
// "content"; additional_special_tokens when non-empty), then `extra`, which overrides any of them.
OrderedJson chat_template_context(const OrderedJson& messages, const OrderedJson& tokenizer_config,
                                  const ChatTemplateOptions& options = {});

}  // namespace vlm
