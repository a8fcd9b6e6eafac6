// Finding a checkpoint's template where Hugging Face finds it, building the render context, and the golden
// fixtures: each fixture case's messages render (add_generation_prompt=True) to the texts the processor saw.
#include <regex>

#include <catch2/catch.hpp>

#include "chat_template_test_util.hpp"
#include "support/shared_data.hpp"

namespace {

using vlm::OrderedJson;

// The processor expands image/video placeholders after templating (Qwen2-VL repeats <|image_pad|> once
// per merged patch), so runs of one repeated placeholder are collapsed to a single one on both sides
// before comparing. Everything else must match byte for byte.
std::string collapse_placeholder_runs(std::string text) {
  for (const std::string placeholder : {"<|image_pad|>", "<|video_pad|>", "<image>", "<|image|>"}) {
    const std::string twice = placeholder + placeholder;
    for (size_t at; (at = text.find(twice)) != std::string::npos;) text.erase(at, placeholder.size());
  }
  return text;
}

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("fixture checkpoints' templates render the texts of their reference cases", "[chat_template][fixtures]") {
  VLM_REQUIRE_SHARED(fixtures, "fixtures");
  int rendered = 0, families_with_template = 0;
  for (const auto& fixture : std::filesystem::directory_iterator(fixtures)) {
    const auto checkpoint = fixture.path() / "checkpoint";
    if (!std::filesystem::is_directory(checkpoint)) continue;
    auto source = vlm::find_chat_template(checkpoint);
    if (!source) continue;  // BLIP-2 and BridgeTower ship no template
    ++families_with_template;
    const auto chat_template = vlm::ChatTemplate::parse(source->source, source->origin);
    const OrderedJson tokenizer_config = OrderedJson::parse(vlm::test::read_file(checkpoint / "tokenizer_config.json"));
    const OrderedJson reference = OrderedJson::parse(vlm::test::read_file(fixture.path() / "reference.json"));
    for (const auto& [case_name, test_case] : reference.at("cases").items()) {
      if (!test_case.contains("texts") || !test_case["texts"].is_array()) continue;
      OrderedJson messages = test_case.value("messages", OrderedJson());
      const auto messages_file = fixture.path() / "inputs" / ("messages_" + case_name + ".json");
      if (messages.is_null() && std::filesystem::exists(messages_file))
        messages = OrderedJson::parse(vlm::test::read_file(messages_file));
      if (messages.is_null()) continue;
      // A batch case holds one conversation per text.
      const bool batch = messages.is_array() && !messages.empty() && messages[0].is_array();
      const OrderedJson conversations = batch ? messages : OrderedJson::array({messages});
      REQUIRE(conversations.size() == test_case["texts"].size());
      for (size_t i = 0; i < conversations.size(); ++i) {
        INFO(fixture.path().filename().string() << " case " << case_name << " #" << i);
        const std::string text = chat_template.render(vlm::chat_template_context(conversations[i], tokenizer_config));
        CHECK(collapse_placeholder_runs(text) == collapse_placeholder_runs(test_case["texts"][i].get<std::string>()));
        ++rendered;
      }
    }
  }
  CHECK(families_with_template >= 5);
  CHECK(rendered >= 10);
}

TEST_CASE("find_chat_template follows Hugging Face's lookup order", "[chat_template]") {
  const auto dir = vlm::test::temp_dir("chat-template-lookup");
  CHECK_FALSE(vlm::find_chat_template(dir).has_value());

  write(dir / "tokenizer_config.json",
        R"({"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}]})");
  CHECK(vlm::find_chat_template(dir)->source == "D");
  CHECK(vlm::find_chat_template(dir, "tool_use")->source == "T");
  CHECK_THROWS_AS(vlm::find_chat_template(dir, "missing"), vlm::Error);

  write(dir / "processor_config.json", R"({"chat_template": "P", "processor_class": "X"})");
  CHECK(vlm::find_chat_template(dir)->source == "P");
  write(dir / "chat_template.json", R"({"chat_template": "J"})");
  CHECK(vlm::find_chat_template(dir)->source == "J");
  write(dir / "chat_template.jinja", "{{ 'file' }}\n");
  auto found = vlm::find_chat_template(dir);
  CHECK(found->source == "{{ 'file' }}\n");
  CHECK(found->origin == (dir / "chat_template.jinja").string());

  write(dir / "chat_template.json", "{broken");
  std::filesystem::remove(dir / "chat_template.jinja");
  CHECK_THROWS_AS(vlm::find_chat_template(dir), vlm::Error);
}

TEST_CASE("chat_template_context passes what apply_chat_template passes", "[chat_template]") {
  const OrderedJson tokenizer_config = OrderedJson::parse(R"({
    "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
    "eos_token": "</s>", "unk_token": null, "pad_token": "",
    "additional_special_tokens": ["<image>", {"content": "<video>"}],
    "model_max_length": 4096})");
  vlm::ChatTemplateOptions options;
  options.add_generation_prompt = false;
  options.extra = {{"date_string", "26 Jul 2024"}, {"eos_token", "<override>"}};
  const OrderedJson messages = OrderedJson::parse(R"([{"role": "user", "content": "hi"}])");
  const OrderedJson context = vlm::chat_template_context(messages, tokenizer_config, options);
  CHECK(context["messages"] == messages);
  CHECK(context["add_generation_prompt"] == false);
  CHECK(context["tools"].is_null());
  CHECK(context["documents"].is_null());
  CHECK(context["bos_token"] == "<s>");
  CHECK(context["eos_token"] == "<override>");
  CHECK_FALSE(context.contains("unk_token"));  // unset tokens are left out, so templates see them undefined
  CHECK_FALSE(context.contains("pad_token"));
  CHECK(context["additional_special_tokens"] == OrderedJson::array({"<image>", "<video>"}));
  CHECK(context["date_string"] == "26 Jul 2024");
  CHECK_FALSE(context.contains("model_max_length"));

  // Undefined renders as "", None as "None": the difference is visible.
  const std::string source = "[{{ unk_token }}][{{ tools }}][{{ bos_token }}]";
  CHECK(vlm::ChatTemplate::parse(source).render(context) == "[][None][<s>]");
}
