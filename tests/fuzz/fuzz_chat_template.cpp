// Chat templates: parsing and rendering. The input is a template, optionally followed by a NUL byte and
// the messages as JSON (a fixed conversation with an image when absent or not JSON). Rendering runs with
// the variables apply_chat_template gives a template, under the sandbox's step, size and depth limits, so
// a runaway template is a TemplateError, not a timeout.
#include <cstring>

#include "fuzz_support.hpp"
#include "vlm/io/config.hpp"
#include "vlm/text/chat_template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = vlm::fuzz::as_text(data, size);
  const size_t split = input.find('\0');
  const std::string source(input.substr(0, split));
  vlm::OrderedJson messages = vlm::OrderedJson::parse(
      R"([{"role": "system", "content": "Be brief."},
          {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]},
          {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
          {"role": "user", "content": "And <b>this</b>?"}])");
  if (split != std::string_view::npos) {
    const std::string_view json = input.substr(split + 1);
    try {
      vlm::check_json_depth(json, "messages");
      messages = vlm::OrderedJson::parse(json);
    } catch (const std::exception&) {  // not JSON: the fixed conversation
    }
  }
  const vlm::OrderedJson tokenizer_config = {{"bos_token", "<s>"}, {"eos_token", {{"content", "</s>"}}}};
  vlm::fuzz::expect_errors([&] {
    const vlm::ChatTemplate chat_template = vlm::ChatTemplate::parse(source, "fuzz.jinja");
    vlm::ChatTemplateOptions options;
    options.add_generation_prompt = size % 2;
    (void)chat_template.render(vlm::chat_template_context(messages, tokenizer_config, options), size % 3 == 0);
  });
  return 0;
}
