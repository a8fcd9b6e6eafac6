// `vlm tokenize` and `vlm template` end to end: the built binary against the reference data in
// ../shared/reference, plus the exit codes and messages of user errors (1) and usage errors (2).
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "support/shared_data.hpp"

namespace {

std::vector<ordered_json> parse_json_lines(const std::string& text) {
  std::vector<ordered_json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(ordered_json::parse(line));
  return lines;
}

}  // namespace

TEST_CASE("vlm tokenize --jsonl reproduces the qwen2_vl reference tokenization", "[cli][tokenize]") {
  VLM_REQUIRE_SHARED(reference, "reference");
  const auto result = run_vlm({"tokenize", "--tokenizer", (reference / "tokenizers/qwen2_vl").string(), "--jsonl",
                               (reference / "tokenization/qwen2_vl.jsonl").string()});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto outputs = parse_json_lines(result.out);
  const auto expected = parse_json_lines(read_file(reference / "tokenization/qwen2_vl.jsonl"));
  REQUIRE(!expected.empty());
  REQUIRE(outputs.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("case " << i << ": " << expected[i]["text"].dump());
    for (const char* field : {"ids", "ids_no_special", "decoded", "decoded_skip_special"})
      CHECK(outputs[i].at(field) == expected[i].at(field));
  }
}

TEST_CASE("vlm tokenize --text prints ids and tokens, with and without special tokens", "[cli][tokenize]") {
  VLM_REQUIRE_SHARED(reference, "reference");
  // mllama adds <|begin_of_text|>, so --no-special makes a visible difference.
  const std::string tokenizer = (reference / "tokenizers/mllama").string();
  ordered_json expected;
  for (const auto& line : parse_json_lines(read_file(reference / "tokenization/mllama.jsonl")))
    if (line["text"] == "Hello world") expected = line;
  REQUIRE(expected.is_object());

  const auto plain = run_vlm({"tokenize", "--tokenizer", tokenizer, "--text", "Hello world"});
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.out == "128000 9906 1917\n\"<|begin_of_text|>\" \"Hello\" \"Ġworld\"\n");

  const auto json = run_vlm({"tokenize", "--tokenizer", tokenizer, "--text", "Hello world", "--json"});
  REQUIRE(json.exit_code == 0);
  const auto with_special = ordered_json::parse(json.out);
  CHECK(with_special["ids"] == expected["ids"]);
  CHECK(with_special["decoded"] == expected["decoded"]);

  const auto no_special = run_vlm({"tokenize", "--tokenizer", tokenizer, "--text", "Hello world", "--json", "--no-special"});
  REQUIRE(no_special.exit_code == 0);
  const auto without_special = ordered_json::parse(no_special.out);
  CHECK(without_special["ids"] == expected["ids_no_special"]);
  CHECK(without_special["tokens"] == expected["tokens_no_special"]);
}

TEST_CASE("vlm tokenize reports user and usage errors", "[cli][tokenize]") {
  const fs::path dir = vlm::test::temp_dir("cli-tokenize");
  const std::string missing = (dir / "no-such-tokenizer").string();
  const auto no_dir = run_vlm({"tokenize", "--tokenizer", missing, "--text", "x"});
  CHECK(no_dir.exit_code == 1);
  CHECK(no_dir.out.empty());
  CHECK_THAT(no_dir.err, Catch::Contains(missing));

  const auto neither = run_vlm({"tokenize", "--tokenizer", missing});
  CHECK(neither.exit_code == 2);
  CHECK_THAT(neither.err, Catch::Contains("--text"));

  VLM_REQUIRE_SHARED(reference, "reference");
  const fs::path cases = dir / "cases.jsonl";
  write_file(cases, "{\"text\": \"fine\"}\n\n{\"text\": \"unterminated}\n");
  const auto malformed = run_vlm({"tokenize", "--tokenizer", (reference / "tokenizers/qwen2_vl").string(), "--jsonl",
                                  cases.string()});
  CHECK(malformed.exit_code == 1);
  CHECK_THAT(malformed.err, Catch::Contains(cases.string() + ":3:"));
}

TEST_CASE("vlm template --jsonl renders the reference cases byte for byte", "[cli][template]") {
  VLM_REQUIRE_SHARED(templates, "reference/chat_templates");
  // Every family, not only qwen2_vl: mllama's cases include a template that raises on purpose.
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(templates / "cases")) {
    const std::string name = entry.path().stem().string();
    const auto result = run_vlm({"template", "--template", (templates / (name + ".jinja")).string(), "--jsonl",
                                 entry.path().string()});
    INFO(name << ": " << result.err);
    REQUIRE(result.exit_code == 0);
    const auto outputs = parse_json_lines(result.out);
    const auto expected = parse_json_lines(read_file(entry.path()));
    REQUIRE(outputs.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      INFO("case " << expected[i]["id"] << ": " << expected[i]["note"]);
      if (expected[i]["error"].is_string()) {
        CHECK(outputs[i]["error"] == expected[i]["error"]);
        CHECK_THAT(outputs[i]["error_location"].get<std::string>(), Catch::StartsWith((templates / name).string()));
      } else {
        CHECK(outputs[i]["rendered"] == expected[i]["rendered"]);
      }
      ++checked;
    }
  }
  CHECK(checked >= 19);  // the five reference templates hold 19 cases
}

TEST_CASE("vlm template renders a checkpoint's template with its special tokens", "[cli][template]") {
  const fs::path checkpoint = vlm::test::temp_dir("cli-template");
  write_file(checkpoint / "tokenizer_config.json", R"({
    "bos_token": "<s>", "eos_token": {"content": "</s>", "special": true},
    "chat_template": "{{ bos_token }}{% for m in messages %}{{ m | tojson }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}"
  })");
  // Keys deliberately not in alphabetical order: the template must see them as written.
  write_file(checkpoint / "messages.json", R"([{"role": "user", "content": "hi"}])");
  const std::vector<std::string> base = {"template", "--model", checkpoint.string(), "--messages",
                                         (checkpoint / "messages.json").string()};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_vlm(args);
  };

  const auto rendered = with({});
  INFO(rendered.err);
  REQUIRE(rendered.exit_code == 0);
  CHECK(rendered.out == R"(<s>{"role": "user", "content": "hi"}</s>assistant:)");
  CHECK(with({"--no-generation-prompt"}).out == R"(<s>{"role": "user", "content": "hi"}</s>)");
  CHECK(with({"--set", "eos_token=<|end|>"}).out == R"(<s>{"role": "user", "content": "hi"}<|end|>assistant:)");
}

TEST_CASE("vlm template --set takes JSON values when they parse, else strings", "[cli][template]") {
  const fs::path dir = vlm::test::temp_dir("cli-set");
  write_file(dir / "variables.jinja",
             "{{ greeting }}|{{ count + 1 }}|{{ flag is sameas true }}|{{ items | length }}|{{ quoted is string }}");
  write_file(dir / "messages.json", "[]");
  const auto result = run_vlm({"template", "--template", (dir / "variables.jinja").string(), "--messages",
                               (dir / "messages.json").string(), "--set", "greeting=hello there", "--set", "count=3",
                               "--set", "flag=true", "--set", "items=[1, 2]", "--set", "quoted=\"5\""});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.out == "hello there|4|True|2|True");

  const auto no_equals = run_vlm({"template", "--template", (dir / "variables.jinja").string(), "--messages",
                                  (dir / "messages.json").string(), "--set", "greeting"});
  CHECK(no_equals.exit_code == 2);
  CHECK_THAT(no_equals.err, Catch::Contains("--set expects KEY=VALUE, got 'greeting'"));
}

TEST_CASE("vlm template reports a template syntax error with its line and column", "[cli][template]") {
  const fs::path dir = vlm::test::temp_dir("cli-syntax");
  // The `}}` at line 2, column 10 ends the expression too early.
  write_file(dir / "broken.jinja", "{{ bos_token }}\n  {{ 1 + }}");
  write_file(dir / "messages.json", "[]");
  const auto result = run_vlm({"template", "--template", (dir / "broken.jinja").string(), "--messages",
                               (dir / "messages.json").string()});
  CHECK(result.exit_code == 1);
  CHECK(result.out.empty());
  CHECK_THAT(result.err, Catch::Contains((dir / "broken.jinja").string() + ":2:10: "));
}

TEST_CASE("vlm run --dump matches Hugging Face through vlm compare", "[cli][run][fixture]") {
  // The user's path end to end: command-line prompt and image -> dump -> tensor-by-tensor comparison
  // with the fixture (greedy, exactly 12 new tokens with EOS suppressed, as the fixture's generate() call).
  VLM_REQUIRE_SHARED(fixture, "fixtures/qwen2_vl");
  const fs::path dump = vlm::test::temp_dir("cli-dump");
  const auto run = run_vlm({"run", "--model", (fixture / "checkpoint").string(), "--device", "cpu", "--image",
                            (fixture / "inputs" / "image_single.png").string(), "--prompt", "Describe this image.",
                            "--greedy", "--min-new-tokens", "12", "--max-new-tokens", "12", "--dump", dump.string()});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const auto same = run_vlm({"compare", dump.string(), (fixture / "reference.safetensors").string(), "--prefix", "single."});
  INFO(same.out);
  CHECK(same.exit_code == 0);
  CHECK_THAT(same.out, Catch::Contains("logits") && Catch::Contains("0 differ"));
  // Against another case the comparison must fail (different prompt and image).
  const auto other = run_vlm({"compare", dump.string(), (fixture / "reference.safetensors").string(), "--prefix", "multi."});
  CHECK(other.exit_code == 1);
  CHECK_THAT(other.out, Catch::Contains("SHAPE"));
}
