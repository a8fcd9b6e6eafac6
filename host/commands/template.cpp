// vlm template (--model DIR | --template FILE) (--messages FILE | --jsonl FILE): the exact prompt a chat template
// renders, for debugging templates and comparing against Hugging Face's apply_chat_template.
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "../command.hpp"
#include "../json_io.hpp"
#include "vlm/text/chat_template.hpp"

namespace vlm::host {
namespace {

// --set KEY=VALUE: VALUE is JSON when it parses (true, 3, "x", [...]) and otherwise the text itself, so that
// `--set date_string=26 Jul 2024` needs no quoting.
OrderedJson parse_set_options(const std::vector<std::string>& settings) {
  OrderedJson variables = OrderedJson::object();
  for (const auto& setting : settings) {
    const auto equals = setting.find('=');
    if (equals == std::string::npos || equals == 0)
      throw po::error(fmt::format("--set expects KEY=VALUE, got '{}'", setting));
    const std::string value = setting.substr(equals + 1);
    variables[setting.substr(0, equals)] = OrderedJson::accept(value) ? OrderedJson::parse(value) : OrderedJson(value);
  }
  return variables;
}

ChatTemplate load_template(const po::variables_map& vm) {
  if (vm.count("template")) {
    const std::string path = vm["template"].as<std::string>();
    return ChatTemplate::parse(read_text_file(path), path);
  }
  const std::string dir = vm["model"].as<std::string>();
  const auto source = find_chat_template(dir);
  if (!source)
    fail("{}: no chat template (chat_template.jinja, chat_template.json, processor_config.json or "
         "tokenizer_config.json); pass --template FILE",
         dir);
  return ChatTemplate::parse(source->source, source->origin);
}

// The special tokens (bos_token, eos_token, ...) a checkpoint gives its template; none without --model.
OrderedJson load_tokenizer_config(const po::variables_map& vm) {
  if (!vm.count("model")) return OrderedJson::object();
  const std::filesystem::path dir = vm["model"].as<std::string>();
  if (!std::filesystem::is_directory(dir)) fail("{}: not a checkpoint directory", dir.string());
  const auto config_path = dir / "tokenizer_config.json";
  if (!std::filesystem::exists(config_path)) return OrderedJson::object();
  return read_json_file(config_path.string());
}

struct TemplateInputs {
  ChatTemplate chat_template;
  OrderedJson tokenizer_config;
  bool add_generation_prompt;
};

// `variables` override everything else, add_generation_prompt included, as apply_chat_template's kwargs do.
std::string render(const TemplateInputs& inputs, const OrderedJson& messages, const OrderedJson& variables) {
  ChatTemplateOptions options;
  options.add_generation_prompt = inputs.add_generation_prompt;
  options.extra = variables;
  return inputs.chat_template.render(chat_template_context(messages, inputs.tokenizer_config, options));
}

void print_rendered_messages(const TemplateInputs& inputs, const std::string& path, const OrderedJson& overrides) {
  const OrderedJson messages = read_json_file(path);
  if (!messages.is_array()) fail("{}: expected a list of messages, got {}", path, messages.type_name());
  const std::string prompt = render(inputs, messages, overrides);
  // As is: a trailing newline of our own would be indistinguishable from one the template wrote.
  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
}

// Cases shaped like the reference files: `messages` and optional `kwargs`. A failure while rendering belongs to
// its case (templates raise on purpose), so it becomes that case's `error`; a malformed case stops the run.
void print_rendered_cases(const TemplateInputs& inputs, const std::string& path, const OrderedJson& overrides) {
  for_each_jsonl_object(path, [&](const OrderedJson& test_case, const std::string& where) {
    if (!test_case.contains("messages") || !test_case["messages"].is_array())
      fail("{}: expected a list field \"messages\"", where);
    OrderedJson variables = test_case.value("kwargs", OrderedJson::object());
    if (!variables.is_object()) fail("{}: \"kwargs\" must be an object", where);
    variables.update(overrides);
    OrderedJson out;
    try {
      out["rendered"] = render(inputs, test_case["messages"], variables);
    } catch (const TemplateError& e) {
      out["error"] = e.message();  // the bare message, comparable with the reference files' `error`
      out["error_location"] = fmt::format("{}:{}:{}", e.origin(), e.line(), e.column());
    }
    print_json_line(out);
  });
}

}  // namespace

int template_command(const std::vector<std::string>& args) {
  po::options_description options("vlm template");
  options.add_options()
      ("model,m", po::value<std::string>(), "checkpoint directory: its chat template and special tokens")
      ("template", po::value<std::string>(), "Jinja chat template file, used instead of the checkpoint's")
      ("messages", po::value<std::string>(), "JSON file holding a list of messages")
      ("jsonl", po::value<std::string>(), "JSON Lines file of cases {messages, kwargs}")
      ("no-generation-prompt", "render without add_generation_prompt")
      ("set", po::value<std::vector<std::string>>()->composing(),
       "KEY=VALUE: a template variable (VALUE parsed as JSON when it parses, else a string); repeatable");
  po::variables_map vm;
  if (!parse_options(args,
                     "usage: vlm template (--model DIR | --template FILE) (--messages FILE | --jsonl FILE)\n"
                     "                    [--no-generation-prompt] [--set KEY=VALUE]...\n\n"
                     "Prints the rendered prompt exactly as the template renders it. With --jsonl, writes one JSON line\n"
                     "per case: {rendered} or {error, error_location}. Variables, later ones overriding earlier:\n"
                     "the special tokens of DIR/tokenizer_config.json, a case's kwargs (add_generation_prompt\n"
                     "included), then --set.",
                     options, {}, vm))
    return 0;
  if (vm.count("messages") == vm.count("jsonl")) throw po::error("give exactly one of --messages FILE and --jsonl FILE");
  if (!vm.count("model") && !vm.count("template")) throw po::error("give --model DIR or --template FILE");

  const OrderedJson overrides = parse_set_options(vm.count("set") ? vm["set"].as<std::vector<std::string>>()
                                                                  : std::vector<std::string>{});
  OrderedJson tokenizer_config = load_tokenizer_config(vm);
  const TemplateInputs inputs{load_template(vm), std::move(tokenizer_config), vm.count("no-generation-prompt") == 0};
  if (vm.count("jsonl"))
    print_rendered_cases(inputs, vm["jsonl"].as<std::string>(), overrides);
  else
    print_rendered_messages(inputs, vm["messages"].as<std::string>(), overrides);
  return 0;
}

}  // namespace vlm::host
