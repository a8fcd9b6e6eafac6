// Every fixture checkpoint's tokenizer against the tokenizer_probes of its reference.json (ids made by
// the Hugging Face slow tokenizers for exact strings).
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"
#include "vlm/text/tokenizer.hpp"

namespace {

using nlohmann::json;

const char* const kFixtures[] = {"blip2-opt", "blip2-t5", "bridgetower", "idefics2", "idefics2-split",
                                 "mllama",    "qwen2_vl", "qwen2_vl-bf16", "vipllava"};

}  // namespace

TEST_CASE("fixture tokenizer probes", "[tokenizer][fixtures]") {
  VLM_REQUIRE_SHARED(fixtures, "fixtures");
  int probes = 0;
  for (const char* name : kFixtures) {
    const auto dir = fixtures / name;
    if (!std::filesystem::exists(dir / "reference.json")) {
      WARN("fixture " << name << " has no reference.json");
      continue;
    }
    std::ifstream in(dir / "reference.json");
    const json reference = json::parse(in);
    REQUIRE(reference.contains("tokenizer_probes"));
    const auto tokenizer = vlm::Tokenizer::load(dir / "checkpoint");
    for (const auto& probe : reference["tokenizer_probes"]) {
      const std::string text = probe["text"];
      const bool add_special = probe["add_special_tokens"];
      const auto expected = probe["ids"].get<std::vector<int64_t>>();
      INFO(name << " probe " << json(text).dump() << " add_special_tokens=" << add_special);
      CHECK(tokenizer->encode(text, add_special) == expected);
      ++probes;
    }
  }
  CHECK(probes > 20);
}
