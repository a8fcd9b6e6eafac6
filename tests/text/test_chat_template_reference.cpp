// Acceptance: every case of shared/reference/chat_templates/cases/*.jsonl renders byte-identical to
// `rendered` (produced by Python jinja2 configured as Hugging Face configures it), or raises a
// TemplateError whose message is the case's `error`.
#include <catch2/catch.hpp>

#include "chat_template_test_util.hpp"
#include "support/shared_data.hpp"

namespace {

using vlm::ChatTemplate;
using vlm::OrderedJson;

// The case's kwargs are the template variables besides `messages` (bos/eos tokens, tools, date_string,
// add_vision_id, ...), passed the way apply_chat_template passes them.
OrderedJson case_context(const OrderedJson& test_case) {
  vlm::ChatTemplateOptions options;
  OrderedJson kwargs = test_case.at("kwargs");
  options.add_generation_prompt = kwargs.value("add_generation_prompt", false);
  kwargs.erase("add_generation_prompt");
  if (kwargs.contains("tools")) {
    options.tools = kwargs["tools"];
    kwargs.erase("tools");
  }
  options.extra = kwargs;
  return vlm::chat_template_context(test_case.at("messages"), OrderedJson::object(), options);
}

}  // namespace

TEST_CASE("reference chat templates render exactly as Python jinja2", "[chat_template][reference]") {
  VLM_REQUIRE_SHARED(dir, "reference/chat_templates");
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "cases")) {
    if (entry.path().extension() != ".jsonl") continue;
    const std::string name = entry.path().stem().string();
    const auto template_path = dir / (name + ".jinja");
    REQUIRE(std::filesystem::exists(template_path));
    const ChatTemplate chat_template = ChatTemplate::parse(vlm::test::read_file(template_path), template_path.string());
    std::istringstream lines(vlm::test::read_file(entry.path()));
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      const OrderedJson test_case = OrderedJson::parse(line);
      INFO(name << " case " << test_case.value("id", -1) << ": " << test_case.value("note", ""));
      const OrderedJson context = case_context(test_case);
      if (test_case.contains("error") && test_case["error"].is_string()) {
        try {
          chat_template.render(context);
          FAIL("expected the template to raise: " << test_case["error"].get<std::string>());
        } catch (const vlm::TemplateError& e) {
          CHECK(e.message() == test_case["error"].get<std::string>());
        }
      } else {
        CHECK(chat_template.render(context) == test_case.at("rendered").get<std::string>());
      }
      ++checked;
    }
  }
  CHECK(checked >= 19);  // the five reference templates hold 19 cases
}
