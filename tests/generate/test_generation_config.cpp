// GenerationConfig: reading generation_config.json (with config.json as the fallback for eos / pad, as
// transformers' GenerationConfig.from_model_config does) and applying user overrides.
#include <catch2/catch.hpp>

#include "vlm/generate/generation_config.hpp"

using namespace vlm;
using Catch::Matchers::Contains;

namespace {

ConfigView gen_json(const char* text) { return ConfigView::parse(text, "generation_config.json"); }
ConfigView model_json(const char* text) { return ConfigView::parse(text, "config.json"); }

}  // namespace

TEST_CASE("GenerationConfig struct defaults are Hugging Face's", "[generate][config]") {
  const GenerationConfig c;
  CHECK(c.max_new_tokens == 20);
  CHECK(c.min_new_tokens == 0);
  CHECK_FALSE(c.do_sample);
  CHECK(c.temperature == 1.0);
  CHECK(c.top_k == 50);
  CHECK(c.top_p == 1.0);
  CHECK(c.min_p == 0.0);
  CHECK(c.repetition_penalty == 1.0);
  CHECK(c.eos_token_ids.empty());
  CHECK_FALSE(c.pad_token_id.has_value());
  CHECK(c.stop_strings.empty());
  CHECK_FALSE(c.ignore_eos);
}

TEST_CASE("GenerationConfig::from_checkpoint with empty files keeps the defaults", "[generate][config]") {
  const GenerationConfig c = GenerationConfig::from_checkpoint(gen_json("{}"), model_json("{}"));
  // Deliberate deviation from HF's max_length=20: 128 new tokens unless the file says otherwise.
  CHECK(c.max_new_tokens == 128);
  CHECK_FALSE(c.do_sample);
  CHECK(c.top_k == 50);
  CHECK(c.eos_token_ids.empty());
  CHECK_FALSE(c.pad_token_id.has_value());
}

TEST_CASE("GenerationConfig::from_checkpoint reads every sampling field", "[generate][config]") {
  const GenerationConfig c = GenerationConfig::from_checkpoint(
      gen_json(R"({"max_new_tokens": 7, "min_new_tokens": 2, "do_sample": true, "temperature": 0.7,
                   "top_k": 5, "top_p": 0.9, "min_p": 0.05, "repetition_penalty": 1.3})"),
      model_json("{}"));
  CHECK(c.max_new_tokens == 7);
  CHECK(c.min_new_tokens == 2);
  CHECK(c.do_sample);
  CHECK(c.temperature == 0.7);
  CHECK(c.top_k == 5);
  CHECK(c.top_p == 0.9);
  CHECK(c.min_p == 0.05);
  CHECK(c.repetition_penalty == 1.3);
}

TEST_CASE("GenerationConfig::from_checkpoint reads eos as an int or a list", "[generate][config]") {
  SECTION("a single id") {
    const auto c = GenerationConfig::from_checkpoint(gen_json(R"({"eos_token_id": 7})"), model_json("{}"));
    CHECK(c.eos_token_ids == std::vector<int64_t>{7});
  }
  SECTION("a list, order kept") {
    const auto c = GenerationConfig::from_checkpoint(gen_json(R"({"eos_token_id": [354, 352]})"), model_json("{}"));
    CHECK(c.eos_token_ids == std::vector<int64_t>{354, 352});
  }
  SECTION("generation_config.json wins over config.json") {
    const auto c = GenerationConfig::from_checkpoint(gen_json(R"({"eos_token_id": [1, 2], "pad_token_id": 3})"),
                                                     model_json(R"({"eos_token_id": 9, "pad_token_id": 8})"));
    CHECK(c.eos_token_ids == std::vector<int64_t>{1, 2});
    CHECK(c.pad_token_id == 3);
  }
  SECTION("config.json is the fallback for eos and pad") {
    const auto c =
        GenerationConfig::from_checkpoint(gen_json("{}"), model_json(R"({"eos_token_id": [4, 5], "pad_token_id": 6})"));
    CHECK(c.eos_token_ids == std::vector<int64_t>{4, 5});
    CHECK(c.pad_token_id == 6);
  }
  SECTION("an explicit null in generation_config.json falls back too (has() treats null as absent)") {
    const auto c =
        GenerationConfig::from_checkpoint(gen_json(R"({"eos_token_id": null})"), model_json(R"({"eos_token_id": 11})"));
    CHECK(c.eos_token_ids == std::vector<int64_t>{11});
  }
  SECTION("a malformed id list names the file and key") {
    CHECK_THROWS_WITH(GenerationConfig::from_checkpoint(gen_json(R"({"eos_token_id": [1, "x"]})"), model_json("{}")),
                      Contains("generation_config.json") && Contains("eos_token_id"));
    CHECK_THROWS_WITH(GenerationConfig::from_checkpoint(gen_json(R"({"eos_token_id": "2"})"), model_json("{}")),
                      Contains("eos_token_id"));
  }
}

TEST_CASE("GenerationConfig::from_checkpoint rejects invalid sampling values in the file", "[generate][config]") {
  // Left unchecked, a negative temperature would silently invert the distribution at sampling time.
  CHECK_THROWS_WITH(GenerationConfig::from_checkpoint(gen_json(R"({"temperature": -1})"), model_json("{}")),
                    Contains("generation_config.json") && Contains("temperature"));
  CHECK_THROWS_WITH(GenerationConfig::from_checkpoint(gen_json(R"({"top_p": 0})"), model_json("{}")),
                    Contains("generation_config.json") && Contains("top_p"));
}

TEST_CASE("GenerationConfig::apply overrides only the keys given", "[generate][config]") {
  GenerationConfig c;
  c.eos_token_ids = {3};
  c.apply(Json::parse(R"({"max_new_tokens": 5, "do_sample": true, "temperature": 0.5, "top_k": 0, "top_p": 0.8,
                          "min_p": 0.1, "repetition_penalty": 1.1, "seed": 42, "stop_strings": ["\n\n", "END"],
                          "ignore_eos": true, "min_new_tokens": 1, "pad_token_id": 0})"));
  CHECK(c.max_new_tokens == 5);
  CHECK(c.do_sample);
  CHECK(c.temperature == 0.5);
  CHECK(c.top_k == 0);
  CHECK(c.top_p == 0.8);
  CHECK(c.min_p == 0.1);
  CHECK(c.repetition_penalty == 1.1);
  CHECK(c.seed == 42);
  CHECK(c.stop_strings == std::vector<std::string>{"\n\n", "END"});
  CHECK(c.ignore_eos);
  CHECK(c.min_new_tokens == 1);
  CHECK(c.pad_token_id == 0);
  CHECK(c.eos_token_ids == std::vector<int64_t>{3});  // untouched

  c.apply(Json::parse(R"({"eos_token_id": [8, 9]})"));
  CHECK(c.eos_token_ids == std::vector<int64_t>{8, 9});
  c.apply(Json::object());  // nothing to do is fine
  CHECK(c.max_new_tokens == 5);
}

TEST_CASE("GenerationConfig::apply rejects unknown keys and invalid values with clear errors", "[generate][config]") {
  GenerationConfig c;
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"max_tokens": 5})")), Contains("unknown generation setting 'max_tokens'"));
  CHECK_THROWS_WITH(c.apply(Json::parse("[1, 2]")), Contains("must be an object"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"max_new_tokens": -1})")), Contains("max_new_tokens must be >= 0"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"temperature": -0.5})")), Contains("temperature must be >= 0"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"top_p": 0})")), Contains("top_p must be in (0, 1]"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"top_p": 1.5})")), Contains("top_p must be in (0, 1]"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"min_p": 2})")), Contains("min_p must be in [0, 1]"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"repetition_penalty": 0})")), Contains("repetition_penalty must be > 0"));
  // HF's TopKLogitsWarper and MinNewTokensLengthLogitsProcessor raise for negative values.
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"top_k": -3})")), Contains("top_k"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"min_new_tokens": -1})")), Contains("min_new_tokens"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"temperature": "hot"})")), Contains("generation setting 'temperature'"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"stop_strings": [1]})")), Contains("stop_strings"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"eos_token_id": 1.5})")), Contains("eos_token_id"));
}

TEST_CASE("GenerationConfig::apply does not coerce between JSON types", "[generate][config]") {
  // nlohmann's get<int64_t>() silently truncates 2.7 to 2 and turns true into 1; a typo in a model YAML
  // must not quietly change the number of tokens generated.
  GenerationConfig c;
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"max_new_tokens": 2.7})")), Contains("max_new_tokens"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"max_new_tokens": true})")), Contains("max_new_tokens"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"top_k": 1.5})")), Contains("top_k"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"seed": -1})")), Contains("seed"));
  CHECK_THROWS_WITH(c.apply(Json::parse(R"({"do_sample": 1})")), Contains("do_sample"));
  // Integers are valid numbers for the real-valued settings.
  c.apply(Json::parse(R"({"temperature": 2, "top_p": 1})"));
  CHECK(c.temperature == 2.0);
  CHECK(c.top_p == 1.0);
}

TEST_CASE("GenerationConfig::apply leaves the config unchanged when it throws", "[generate][config]") {
  GenerationConfig c;
  c.top_p = 0.9;
  c.max_new_tokens = 10;
  // The valid key comes first: a partial update would leave max_new_tokens = 99 and top_p = 0.
  REQUIRE_THROWS_AS(c.apply(Json::parse(R"({"max_new_tokens": 99, "top_p": 0})")), Error);
  CHECK(c.max_new_tokens == 10);
  CHECK(c.top_p == 0.9);
}
