// TextStream: incremental detokenization with a real byte-level BPE tokenizer (Qwen2-VL's), whose tokens
// split emoji and rare CJK characters into several byte tokens.
#include <catch2/catch.hpp>

#include "support/shared_data.hpp"
#include "vlm/generate/text_stream.hpp"
#include "vlm/text/tokenizer.hpp"

using namespace vlm;

namespace {

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool has_replacement(const std::string& s) { return s.find(kReplacement) != std::string::npos; }

struct Streamed {
  std::vector<std::string> pieces;  // one per push, then the flush
  std::string joined;
};

Streamed stream_all(const Tokenizer& tokenizer, const std::vector<int64_t>& ids, bool skip_special) {
  TextStream stream([&](std::span<const int64_t> span) { return tokenizer.decode(span, skip_special); });
  Streamed out;
  for (const int64_t id : ids) out.pieces.push_back(stream.push(id));
  out.pieces.push_back(stream.flush());
  for (const auto& p : out.pieces) out.joined += p;
  CHECK(stream.tokens() == ids);
  return out;
}

}  // namespace

TEST_CASE("TextStream never releases half a UTF-8 character and loses nothing", "[generate][text_stream]") {
  VLM_REQUIRE_SHARED(dir, "reference/tokenizers/qwen2_vl");
  const auto tokenizer = Tokenizer::load(dir);
  const std::string text = "Llamas 🦙 and 🐉 dragons: 龘靐齉 — café, naïve 𝄞 done 👩‍👩‍👧!";
  const std::vector<int64_t> ids = tokenizer->encode(text, false);
  REQUIRE(tokenizer->decode(ids) == text);

  // The test is only meaningful if some token boundary falls inside a character: then decoding a prefix
  // of the ids ends in U+FFFD.
  bool splits_a_character = false;
  for (size_t n = 1; n < ids.size(); ++n)
    splits_a_character = splits_a_character || has_replacement(tokenizer->decode(std::span(ids).first(n)));
  REQUIRE(splits_a_character);

  const Streamed streamed = stream_all(*tokenizer, ids, false);
  CHECK(streamed.joined == text);
  for (size_t i = 0; i < streamed.pieces.size(); ++i) {
    INFO("piece " << i << ": '" << streamed.pieces[i] << "'");
    CHECK_FALSE(has_replacement(streamed.pieces[i]));
  }
}

TEST_CASE("TextStream releases text as soon as it is complete", "[generate][text_stream]") {
  VLM_REQUIRE_SHARED(dir, "reference/tokenizers/qwen2_vl");
  const auto tokenizer = Tokenizer::load(dir);
  // Plain ASCII words are whole tokens: every push releases its text, the flush has nothing left.
  const std::vector<int64_t> ids = tokenizer->encode("Hello world, this is plain text.", false);
  const Streamed streamed = stream_all(*tokenizer, ids, false);
  for (size_t i = 0; i + 1 < streamed.pieces.size(); ++i) {
    INFO("piece " << i);
    CHECK_FALSE(streamed.pieces[i].empty());
  }
  CHECK(streamed.pieces.back().empty());
  CHECK(streamed.joined == tokenizer->decode(ids));
}

TEST_CASE("TextStream with special tokens skipped matches decode of all ids", "[generate][text_stream]") {
  VLM_REQUIRE_SHARED(dir, "reference/tokenizers/qwen2_vl");
  const auto tokenizer = Tokenizer::load(dir);
  std::vector<int64_t> ids = tokenizer->encode("<|im_start|>assistant\n你好🦙<|im_end|>", false);
  const Streamed streamed = stream_all(*tokenizer, ids, true);
  CHECK(streamed.joined == tokenizer->decode(ids, true));
  CHECK(streamed.joined == "assistant\n你好🦙");
}

TEST_CASE("TextStream flush releases an incomplete character at the end", "[generate][text_stream]") {
  VLM_REQUIRE_SHARED(dir, "reference/tokenizers/qwen2_vl");
  const auto tokenizer = Tokenizer::load(dir);
  // Generation can stop (max_new_tokens) in the middle of a character; the partial bytes come out of
  // flush() as U+FFFD, exactly as decode() shows them, rather than being dropped.
  std::vector<int64_t> ids = tokenizer->encode("ok 🦙", false);
  std::vector<int64_t> partial;
  for (size_t n = 1; n <= ids.size(); ++n)
    if (has_replacement(tokenizer->decode(std::span(ids).first(n)))) {
      partial.assign(ids.begin(), ids.begin() + std::ptrdiff_t(n));
      break;
    }
  REQUIRE_FALSE(partial.empty());
  const Streamed streamed = stream_all(*tokenizer, partial, false);
  for (size_t i = 0; i + 1 < streamed.pieces.size(); ++i) CHECK_FALSE(has_replacement(streamed.pieces[i]));
  CHECK(has_replacement(streamed.pieces.back()));
  CHECK(streamed.joined == tokenizer->decode(partial));
}

TEST_CASE("TextStream decodes ids beyond the vocabulary without throwing", "[generate][text_stream]") {
  VLM_REQUIRE_SHARED(dir, "reference/tokenizers/qwen2_vl");
  const auto tokenizer = Tokenizer::load(dir);
  // Models pad their embedding rows beyond the tokenizer; a sampled padding id must not crash streaming.
  const std::vector<int64_t> ids{tokenizer->encode("a", false)[0], 10'000'000, -5};
  Streamed streamed;
  REQUIRE_NOTHROW(streamed = stream_all(*tokenizer, ids, true));
  CHECK(streamed.joined == tokenizer->decode(ids, true));
}
