// Hostile inputs: invalid UTF-8, empty text, a 10 MB single word, 100 000 special tokens in a row,
// random bytes to encode and random ids to decode. Each case is bounded to a few seconds.
#include <chrono>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/text/tokenizer.hpp"

using Ids = std::vector<int64_t>;

namespace {

std::shared_ptr<const vlm::Tokenizer> load_reference(const std::filesystem::path& reference, const char* name) {
  return vlm::Tokenizer::load(reference / "tokenizers" / name);
}

double seconds(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("invalid UTF-8 is replaced like Python's errors=\"replace\"", "[tokenizer][robustness]") {
  VLM_REQUIRE_SHARED(reference, "reference");
  for (const char* name : {"qwen2_vl", "vipllava", "t5"}) {
    const auto t = load_reference(reference, name);
    INFO(name);
    // b"a\xffb\xe2\x82c\xed\xa0\x80d\xf0\x9f\x98".decode("utf-8", "replace") ==
    //   "a\ufffdb\ufffdc\ufffd\ufffd\ufffdd\ufffd": one U+FFFD per maximal invalid subsequence.
    const std::string bad = "a\xff" "b\xe2\x82" "c\xed\xa0\x80" "d\xf0\x9f\x98";
    const std::string repaired = "a\uFFFDb\uFFFDc\uFFFD\uFFFD\uFFFDd\uFFFD";
    CHECK(t->encode(bad) == t->encode(repaired));
    CHECK(t->encode(std::string("\x80\x80", 2), false) == t->encode("\uFFFD\uFFFD", false));
  }
}

TEST_CASE("empty text", "[tokenizer][robustness]") {
  VLM_REQUIRE_SHARED(reference, "reference");
  CHECK(load_reference(reference, "qwen2_vl")->encode("", true).empty());
  CHECK(load_reference(reference, "mllama")->encode("", true) == Ids{128000});
  CHECK(load_reference(reference, "t5")->encode("", true) == Ids{1});
  CHECK(load_reference(reference, "vipllava")->encode("", false).empty());
  CHECK(load_reference(reference, "t5")->decode(Ids{}, false).empty());
}

TEST_CASE("a 10 MB single word tokenizes in near-linear time", "[tokenizer][robustness]") {
  // A complexity check, not a speed goal: 10x the input must cost far less than the 100x a quadratic
  // merge loop would (best of two runs each, generous ratio, so a loaded machine does not flake).
  VLM_REQUIRE_SHARED(reference, "reference");
  for (const char* name : {"qwen2_vl", "vipllava", "t5"}) {
    const auto t = load_reference(reference, name);
    INFO(name);
    // A pattern of letters that merges into many tokens (not one repeated character).
    std::string small;
    while (small.size() < 1'000'000) small += "antidisestablishmentarianism";
    std::string big;
    for (int i = 0; i < 10; ++i) big += small;
    Ids small_ids, big_ids;
    const double t_small = std::min(seconds([&] { small_ids = t->encode(small, false); }),
                                    seconds([&] { small_ids = t->encode(small, false); }));
    const double t_big = seconds([&] { big_ids = t->encode(big, false); });
    INFO("1 MB: " << t_small << " s, 10 MB: " << t_big << " s");
    CHECK(big_ids.size() > small_ids.size() * 9);
    CHECK(t_big < 40.0 * t_small + 1.0);
  }
}

TEST_CASE("100 000 special tokens in a row", "[tokenizer][robustness]") {
  VLM_REQUIRE_SHARED(reference, "reference");
  const auto t = load_reference(reference, "qwen2_vl");
  std::string text;
  for (int i = 0; i < 100'000; ++i) text += "<|image_pad|>";
  const auto pad = *t->token_to_id("<|image_pad|>");
  Ids ids;
  const double elapsed = seconds([&] { ids = t->encode(text, false); });
  CHECK(ids == Ids(100'000, pad));
  CHECK(elapsed < 5.0);
  CHECK(t->decode(ids, true).empty());
  CHECK(t->decode(ids, false) == text);
}

TEST_CASE("fuzz: random bytes encode, random ids decode", "[tokenizer][robustness]") {
  VLM_REQUIRE_SHARED(reference, "reference");
  std::mt19937_64 rng(1234);
  for (const char* name : {"qwen2_vl", "mllama", "idefics2", "vipllava", "opt", "t5", "roberta_base"}) {
    const auto t = load_reference(reference, name);
    INFO(name);
    const auto bound = int64_t(t->vocab_size());
    for (int round = 0; round < 150; ++round) {
      std::string text(rng() % 200, '\0');
      for (auto& c : text) {
        // Mostly printable ASCII, with raw high bytes, controls and NULs mixed in.
        const auto r = rng() % 10;
        c = static_cast<char>(r < 6 ? 0x20 + rng() % 0x5F : r < 9 ? rng() % 256 : rng() % 0x20);
      }
      const auto ids = t->encode(text, true);
      for (const auto id : ids) REQUIRE((id >= 0 && id < bound));
      const std::string decoded = t->decode(ids, false);
      CHECK(t->encode(decoded, false).size() <= 4 * ids.size() + 8);  // decoded text is valid and sane
      Ids random_ids(rng() % 64);
      for (auto& id : random_ids) id = int64_t(rng() % uint64_t(bound + 300)) - 100;
      CHECK_NOTHROW(t->decode(random_ids, rng() % 2 == 0));
    }
  }
}

TEST_CASE("one tokenizer shared by several threads", "[tokenizer][robustness]") {
  VLM_REQUIRE_SHARED(reference, "reference");
  for (const char* name : {"qwen2_vl", "t5"}) {
    const auto t = load_reference(reference, name);
    std::vector<std::string> texts;
    for (int i = 0; i < 400; ++i)
      texts.push_back("word" + std::to_string(i) + " 日本語 héllo <|im_start|> " + std::string(std::size_t(i % 7), 'x'));
    std::vector<Ids> expected;
    for (const auto& text : texts) expected.push_back(t->encode(text));
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k)
      threads.emplace_back([&, k] {
        for (int round = 0; round < 5; ++round)
          for (std::size_t i = 0; i < texts.size(); ++i)
            if (t->encode(texts[(i * 7 + std::size_t(k)) % texts.size()]) != expected[(i * 7 + std::size_t(k)) % texts.size()])
              ++mismatches[std::size_t(k)];
      });
    for (auto& th : threads) th.join();
    INFO(name);
    CHECK(mismatches == std::vector<int>(4, 0));
  }
}
