// The generation loop (vlm::generate) on the tiny Qwen2-VL fixture checkpoint (random weights, 384-token
// vocabulary, CPU): stop conditions, batching with left padding, and streaming. Expected outputs are not
// hard-coded: each test first records the greedy continuation, then checks how the loop cuts it, so the
// tests stay valid if the fixture is regenerated.
#include <algorithm>
#include <optional>

#include <catch2/catch.hpp>

#include "support/load_model.hpp"
#include "support/shared_data.hpp"
#include "vlm/generate/generate.hpp"
#include "vlm/image/load.hpp"
#include "vlm/registry/loader.hpp"

using namespace vlm;
namespace fs = std::filesystem;

namespace {

Prompt raw_prompt(const std::string& user_text) {
  Prompt p;
  p.raw = "<|im_start|>user\n" + user_text + "<|im_end|>\n<|im_start|>assistant\n";
  return p;
}

Prompt image_prompt(const fs::path& dir, const std::string& user_text) {
  Prompt p;
  p.messages =
      OrderedJson::parse(R"([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": ""}]}])");
  p.messages[0]["content"][1]["text"] = user_text;
  p.images.push_back(load_image(dir / "inputs" / "image_batch_0.png"));
  return p;
}

GenerationConfig greedy(const registry::LoadedModel& loaded, int64_t max_new_tokens) {
  GenerationConfig c =
      GenerationConfig::from_checkpoint(loaded.checkpoint->generation_config(), loaded.checkpoint->config());
  c.do_sample = false;
  c.max_new_tokens = max_new_tokens;
  return c;
}

// The fixture's random weights make plain greedy decoding repeat one token (e.g. "............"), which
// cannot show where a stop condition cut. A repetition penalty (still deterministic) makes the tokens vary.
GenerationConfig varied(const registry::LoadedModel& loaded, int64_t max_new_tokens) {
  GenerationConfig c = greedy(loaded, max_new_tokens);
  c.repetition_penalty = 3.0;
  return c;
}

struct Run {
  GenerationResult result;
  std::vector<std::string> streamed;               // concatenated callback text per row
  std::vector<std::vector<std::string>> pieces;    // each callback's text per row
};

Run run(Model& model, const std::vector<Prompt>& prompts, const GenerationConfig& config) {
  Run r;
  r.streamed.assign(prompts.size(), {});
  r.pieces.assign(prompts.size(), {});
  r.result = generate(model, prompts, config, [&](size_t row, const std::string& piece) {
    REQUIRE(row < prompts.size());
    CHECK_FALSE(piece.empty());
    r.streamed[row] += piece;
    r.pieces[row].push_back(piece);
  });
  REQUIRE(r.result.generated_ids.size() == prompts.size());
  // The streaming contract: a row's callbacks add up to exactly its final text.
  for (size_t row = 0; row < prompts.size(); ++row) {
    INFO("row " << row);
    CHECK(r.streamed[row] == r.result.texts[row]);
  }
  return r;
}

// The greedy continuation without any stop condition: the reference the other tests cut.
Run unstopped(Model& model, const std::vector<Prompt>& prompts, GenerationConfig config) {
  config.ignore_eos = true;
  config.stop_strings.clear();
  Run r = run(model, prompts, config);
  for (size_t row = 0; row < prompts.size(); ++row) {
    REQUIRE(int64_t(r.result.generated_ids[row].size()) == config.max_new_tokens);
    CHECK(r.result.finish_reasons[row] == "length");
  }
  return r;
}

std::vector<int64_t> first(const std::vector<int64_t>& ids, size_t n) {
  REQUIRE(n <= ids.size());
  return {ids.begin(), ids.begin() + std::ptrdiff_t(n)};
}

bool is_prefix(const std::vector<int64_t>& prefix, const std::vector<int64_t>& of) {
  return prefix.size() <= of.size() && std::equal(prefix.begin(), prefix.end(), of.begin());
}

}  // namespace

TEST_CASE("generation stops at eos and keeps the eos token", "[generate][loop]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  const std::vector<Prompt> prompts{raw_prompt("Describe the image.")};
  const auto reference = unstopped(*loaded.model, prompts, varied(loaded, 12)).result.generated_ids[0];

  // A token first produced at step k >= 2 becomes the eos: generation must run exactly k + 1 steps.
  size_t k = 2;
  while (k < reference.size() && std::find(reference.begin(), reference.begin() + std::ptrdiff_t(k), reference[k]) !=
                                     reference.begin() + std::ptrdiff_t(k))
    ++k;
  INFO("greedy reference ids: " << Catch::Detail::stringify(reference));
  REQUIRE(k < reference.size());  // the fixture must produce a fresh token after step 2

  GenerationConfig config = varied(loaded, 12);
  config.eos_token_ids = {reference[k]};
  const Run r = run(*loaded.model, prompts, config);
  CHECK(r.result.generated_ids[0] == first(reference, k + 1));
  CHECK(r.result.finish_reasons[0] == "eos");
  CHECK(r.result.timings.decode_steps == int64_t(k));  // no step is run after the eos token

  SECTION("ignore_eos generates through it") {
    config.ignore_eos = true;
    const Run through = run(*loaded.model, prompts, config);
    CHECK(through.result.generated_ids[0] == reference);
    CHECK(through.result.finish_reasons[0] == "length");
  }
  SECTION("min_new_tokens suppresses the eos until enough tokens exist") {
    // With the eos masked for the first k + 1 tokens, step k takes the runner-up, so the output differs
    // from the reference there and never ends before k + 1 tokens.
    config.min_new_tokens = int64_t(k + 1);
    const Run late = run(*loaded.model, prompts, config);
    REQUIRE(late.result.generated_ids[0].size() >= k + 1);
    CHECK(first(late.result.generated_ids[0], k) == first(reference, k));
    CHECK(late.result.generated_ids[0][k] != reference[k]);
  }
}

TEST_CASE("max_new_tokens bounds the generation", "[generate][loop]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  const std::vector<Prompt> prompts{raw_prompt("Hello")};
  const auto reference = unstopped(*loaded.model, prompts, greedy(loaded, 9)).result;

  GenerationConfig config = greedy(loaded, 4);
  config.ignore_eos = true;
  const Run r = run(*loaded.model, prompts, config);
  CHECK(r.result.generated_ids[0] == first(reference.generated_ids[0], 4));
  CHECK(r.result.finish_reasons[0] == "length");
  CHECK(r.result.timings.decode_steps == 3);  // the prefill yields the first token
  CHECK(r.result.texts[0] == loaded.model->processor().decode(r.result.generated_ids[0], true));

  config.max_new_tokens = 0;
  const Run none = run(*loaded.model, prompts, config);
  CHECK(none.result.generated_ids[0].empty());
  CHECK(none.result.texts[0].empty());
  CHECK(none.result.finish_reasons[0] == "length");
  CHECK(none.result.prompt_ids[0] == reference.prompt_ids[0]);
}

TEST_CASE("a stop string ends generation and is cut from the text", "[generate][loop]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  const std::vector<Prompt> prompts{raw_prompt("Describe the image.")};
  GenerationConfig config = varied(loaded, 16);
  const Run reference = unstopped(*loaded.model, prompts, config);
  const std::string& full = reference.result.texts[0];
  const auto& pieces = reference.pieces[0];
  INFO("reference text: '" << full << "'");

  // The stop string straddles two streamed pieces (the last character of one, the first of the next), the
  // case where text already streamed would have to be taken back. ASCII only so no character is split.
  std::string stop;
  for (size_t i = 0; i + 1 < pieces.size() && stop.empty(); ++i) {
    const unsigned char last = static_cast<unsigned char>(pieces[i].back());
    const unsigned char first = static_cast<unsigned char>(pieces[i + 1].front());
    if (last >= 0x21 && last < 0x7F && first >= 0x21 && first < 0x7F) stop = {char(last), char(first)};
  }
  REQUIRE_FALSE(stop.empty());
  const size_t at = full.find(stop);
  REQUIRE(at != std::string::npos);
  INFO("stop string: '" << stop << "' first found at byte " << at);

  config.stop_strings = {"never appears \x01", stop};
  config.ignore_eos = true;
  const Run r = run(*loaded.model, prompts, config);  // also checks streamed == final text
  CHECK(r.result.texts[0] == full.substr(0, at));
  CHECK(r.result.finish_reasons[0] == "stop_string");
  // The tokens up to the one that completed the stop string are kept, and generation stopped there.
  CHECK(is_prefix(r.result.generated_ids[0], reference.result.generated_ids[0]));
  CHECK(r.result.generated_ids[0].size() < reference.result.generated_ids[0].size());
  const std::string decoded = loaded.model->processor().decode(r.result.generated_ids[0], true);
  CHECK(decoded.find(stop) != std::string::npos);
  const std::vector<int64_t> one_less(r.result.generated_ids[0].begin(), r.result.generated_ids[0].end() - 1);
  CHECK(loaded.model->processor().decode(one_less, true).find(stop) == std::string::npos);
}

TEST_CASE("a batch row generates exactly what the prompt generates alone", "[generate][loop][batch]") {
  VLM_REQUIRE_SHARED(dir, "fixtures/qwen2_vl");
  auto loaded = test::load_fixture_model(dir);
  // Different lengths force left padding; one row has an image (M-RoPE deltas differ between the rows).
  const std::vector<Prompt> batch{image_prompt(dir, "What is this?"),
                                  raw_prompt("Describe the colors, the lines and the shapes in great detail.")};
  GenerationConfig config = greedy(loaded, 12);

  auto check_batch_invariance = [&](const GenerationConfig& c) {
    const Run together = run(*loaded.model, batch, c);
    REQUIRE(together.result.prompt_ids[0].size() != together.result.prompt_ids[1].size());
    for (size_t row = 0; row < batch.size(); ++row) {
      INFO("row " << row);
      const Run alone = run(*loaded.model, std::vector<Prompt>{batch[row]}, c);
      CHECK(together.result.prompt_ids[row] == alone.result.prompt_ids[0]);
      CHECK(together.result.generated_ids[row] == alone.result.generated_ids[0]);
      CHECK(together.result.texts[row] == alone.result.texts[0]);
      CHECK(together.result.finish_reasons[row] == alone.result.finish_reasons[0]);
    }
    return together;
  };

  SECTION("every row runs to max_new_tokens") {
    config.ignore_eos = true;
    check_batch_invariance(config);
  }
  SECTION("one row ends early while the other continues") {
    // An eos that row 0 produces and row 1 never does: row 0 stops, row 1 keeps stepping with filler
    // tokens fed for row 0, which must not disturb it.
    GenerationConfig open = config;
    const Run reference = unstopped(*loaded.model, batch, open);
    const auto& ids0 = reference.result.generated_ids[0];
    const auto& ids1 = reference.result.generated_ids[1];
    std::optional<int64_t> eos;
    for (size_t i = 1; i + 1 < ids0.size() && !eos; ++i)
      if (std::find(ids1.begin(), ids1.end(), ids0[i]) == ids1.end()) eos = ids0[i];
    INFO("row 0: " << Catch::Detail::stringify(ids0) << " row 1: " << Catch::Detail::stringify(ids1));
    REQUIRE(eos.has_value());
    config.eos_token_ids = {*eos};
    const Run together = check_batch_invariance(config);
    CHECK(together.result.finish_reasons[0] == "eos");
    CHECK(together.result.finish_reasons[1] == "length");
    CHECK(together.result.generated_ids[0].size() < together.result.generated_ids[1].size());
  }
}
