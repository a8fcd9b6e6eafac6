// Individual pipeline components built from small tokenizer.json snippets. Expected values were
// produced with Hugging Face tokenizers 0.23 (normalize_str / pre_tokenize_str / decode).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "decoders.hpp"
#include "normalizers.hpp"
#include "pre_tokenizers.hpp"
#include "precompiled_charsmap.hpp"
#include "support/shared_data.hpp"
#include "tokenizer_config.hpp"
#include "tokenizer_json.hpp"

namespace td = vlm::text_detail;
using nlohmann::json;
using Strings = std::vector<std::string>;

namespace {

std::string normalize(const json& spec, std::string text) {
  auto normalizer = td::normalizer_from_json({spec, "test"});
  REQUIRE(normalizer);
  normalizer->normalize(text);
  return text;
}

Strings pre_tokenize(const json& spec, const std::string& text, bool at_text_start = true) {
  auto pre = td::pre_tokenizer_from_json({spec, "test"});
  REQUIRE(pre);
  std::vector<td::Piece> pieces{{text, at_text_start}};
  pre->pre_tokenize(pieces);
  Strings out;
  for (auto& p : pieces) out.push_back(p.text);
  return out;
}

std::string decode(const json& spec, Strings tokens) {
  auto decoder = td::decoder_from_json({spec, "test"});
  REQUIRE(decoder);
  decoder->decode_chain(tokens);
  std::string out;
  for (auto& t : tokens) out += t;
  return out;
}

json split(const char* behavior, bool invert = false) {
  return {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}};
}

}  // namespace

TEST_CASE("normalizers", "[tokenizer][components]") {
  CHECK(normalize({{"type", "NFKC"}}, "Ａｂｃ ﬁ ①") == "Abc fi 1");
  CHECK(normalize({{"type", "NFC"}}, "e\u0301") == "\u00e9");
  CHECK(normalize({{"type", "NFD"}}, "\u00e9") == "e\u0301");
  // Per character, so no final-sigma rule; İ lower-cases to i + combining dot.
  CHECK(normalize({{"type", "Lowercase"}}, "İΣΑΣ") == "i\u0307σασ");
  CHECK(normalize({{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}}, " \t x \u3000") == "x");
  CHECK(normalize({{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}}, "  x  ") == "  x");
  CHECK(normalize({{"type", "Prepend"}, {"prepend", "▁"}}, "") == "");
  CHECK(normalize({{"type", "Prepend"}, {"prepend", "▁"}}, "a") == "▁a");
  CHECK(normalize({{"type", "Replace"}, {"pattern", {{"Regex", " {2,}"}}}, {"content", "▁"}}, "a   b c") == "a▁b c");
  CHECK(normalize({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}, " a b") == "▁a▁b");
  CHECK(normalize({{"type", "BertNormalizer"}}, "Héllo\t中文\x01X") == "hello  中  文 x");
  CHECK(normalize({{"type", "Sequence"},
                   {"normalizers", {{{"type", "Prepend"}, {"prepend", "▁"}}, {{"type", "Lowercase"}}}}},
                  "AB") == "▁ab");
}

TEST_CASE("Precompiled normalizer reads the SentencePiece charsmap", "[tokenizer][components]") {
  VLM_REQUIRE_SHARED(t5, "reference/tokenizers/t5/tokenizer.json");
  const auto document = td::parse_tokenizer_json(td::read_text_file(t5));
  const json& spec = document.root["normalizer"];
  // "ｶﾞ" is one 6-byte grapheme, so it is mapped character by character (no composition to ガ), while
  // the 3-byte grapheme e + U+0301 is looked up whole.
  CHECK(normalize(spec, "Ａｂｃ ｶﾞ e\u0301 ① \u00a0x") == "Abc \u30ab\u3099 \u00e9 1  x");
  // Where T5's rules are not NFKC: DEL vanishes, zero-width and line separators become spaces, and the
  // metaspace character itself maps to a space.
  CHECK(normalize(spec, "a\x7f" "b") == "ab");
  CHECK(normalize(spec, "a\u200bb\u2028c\u2581d") == "a b c d");
  CHECK(normalize(spec, "") == "");
}

TEST_CASE("Split behaviors", "[tokenizer][components]") {
  const std::string text = "a-b--c-";
  CHECK(pre_tokenize(split("Removed"), text) == Strings{"a", "b", "c"});
  CHECK(pre_tokenize(split("Isolated"), text) == Strings{"a", "-", "b", "-", "-", "c", "-"});
  CHECK(pre_tokenize(split("MergedWithPrevious"), text) == Strings{"a-", "b-", "-", "c-"});
  CHECK(pre_tokenize(split("MergedWithNext"), text) == Strings{"a", "-b", "-", "-c", "-"});
  CHECK(pre_tokenize(split("Contiguous"), text) == Strings{"a", "-", "b", "--", "c", "-"});
  CHECK(pre_tokenize(split("Removed", true), text) == Strings{"-", "-", "-", "-"});
  CHECK(pre_tokenize(split("MergedWithPrevious", true), text) == Strings{"a", "-b", "-", "-c", "-"});
  CHECK(pre_tokenize(split("MergedWithNext", true), text) == Strings{"a-", "b-", "-", "c-"});
}

TEST_CASE("pre-tokenizers", "[tokenizer][components]") {
  const json first = {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", true}};
  CHECK(pre_tokenize(first, "hello  world") == Strings{"▁hello", "▁", "▁world"});
  CHECK(pre_tokenize(first, "hello", false) == Strings{"hello"});  // not at the start of the input
  CHECK(pre_tokenize({{"type", "Metaspace"}, {"prepend_scheme", "never"}, {"split", false}}, "hello  world") ==
        Strings{"hello▁▁world"});
  CHECK(pre_tokenize({{"type", "Metaspace"}, {"prepend_scheme", "always"}}, " hi") == Strings{"▁hi"});
  // Files written before prepend_scheme existed.
  CHECK(pre_tokenize({{"type", "Metaspace"}, {"replacement", "▁"}, {"add_prefix_space", true}}, "a b") ==
        Strings{"▁a", "▁b"});
  CHECK(pre_tokenize({{"type", "ByteLevel"}, {"add_prefix_space", true}}, "Hello world!  ok\n") ==
        Strings{"ĠHello", "Ġworld", "!", "Ġ", "Ġok", "Ċ"});
  CHECK(pre_tokenize({{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}, "é x") ==
        Strings{"Ã©Ġx"});
  CHECK(pre_tokenize({{"type", "Digits"}, {"individual_digits", true}}, "a123b45") ==
        Strings{"a", "1", "2", "3", "b", "4", "5"});
  CHECK(pre_tokenize({{"type", "Digits"}, {"individual_digits", false}}, "a123b45") == Strings{"a", "123", "b", "45"});
  CHECK(pre_tokenize({{"type", "WhitespaceSplit"}}, " a\tb\u3000c  ") == Strings{"a", "b", "c"});
  CHECK(pre_tokenize({{"type", "Whitespace"}}, "Hello, world! 3.5x") ==
        Strings{"Hello", ",", "world", "!", "3", ".", "5x"});
  CHECK(pre_tokenize({{"type", "Punctuation"}}, "a,b!!c") == Strings{"a", ",", "b", "!", "!", "c"});
  const json qwen_split = {{"type", "Split"},
                           {"pattern", {{"Regex", R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
                           {"behavior", "Isolated"},
                           {"invert", false}};
  CHECK(pre_tokenize(qwen_split, "I'M 42x  yes\n\n") == Strings{"I", "'M", " ", "4", "2", "x", " ", " yes", "\n\n"});
  CHECK(pre_tokenize({{"type", "Sequence"}, {"pretokenizers", {{{"type", "WhitespaceSplit"}}, {{"type", "Digits"}, {"individual_digits", true}}}}},
                     "ab12 c") == Strings{"ab", "1", "2", "c"});
}

TEST_CASE("a catastrophically backtracking Split pattern fails fast with an Error naming it", "[tokenizer][components]") {
  // (a+)+$ on "aaa...ab" takes 2^n steps without a match limit; the limit turns it into an Error.
  const json hostile = {{"type", "Split"}, {"pattern", {{"Regex", "(a+)+$"}}}, {"behavior", "Isolated"}, {"invert", false}};
  const std::string text = std::string(40, 'a') + "b";
  try {
    pre_tokenize(hostile, text);
    FAIL("expected the match limit to stop the pattern");
  } catch (const vlm::Error& e) {
    const std::string message = e.what();
    CHECK(message.find("(a+)+$") != std::string::npos);
    CHECK(message.find("backtracks without bound") != std::string::npos);
    CHECK(message.find("41-byte text") != std::string::npos);
  }
  // The same pattern on text it matches without backtracking still works.
  CHECK(pre_tokenize(hostile, "baaa") == Strings{"b", "aaa"});
}

TEST_CASE("decoders", "[tokenizer][components]") {
  const json byte_fallback_fuse = {{"type", "Sequence"}, {"decoders", {{{"type", "ByteFallback"}}, {{"type", "Fuse"}}}}};
  // A complete UTF-8 sequence decodes; an incomplete one gives one U+FFFD per byte.
  CHECK(decode(byte_fallback_fuse, {"a", "<0xE2>", "<0x82>", "<0xAC>", "b", "<0xE2>", "<0x82>", "c", "<0x41>"}) ==
        "a€b\uFFFD\uFFFDcA");
  CHECK(decode({{"type", "Metaspace"}, {"prepend_scheme", "always"}}, {"▁Hello", "▁wo", "rld", "▁"}) == "Hello world ");
  CHECK(decode({{"type", "Metaspace"}, {"prepend_scheme", "never"}}, {"▁Hello", "▁world"}) == " Hello world");
  CHECK(decode({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 1}}, {"  a  ", " b "}) == " a b");
  CHECK(decode({{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}, {"hello", "##ing", "world", ",", "do", "n't"}) ==
        "helloing world, don't");
  CHECK(decode({{"type", "ByteLevel"}}, {"Hello", "Ġworld", "Ċ", "<x>", "ðŁ", "ĺ"}) == "Hello world\n<x>\uFFFD");
  CHECK(decode({{"type", "Replace"}, {"pattern", {{"String", "▁"}}}, {"content", " "}}, {"▁a", "▁b"}) == " a b");
  CHECK(decode({{"type", "BPEDecoder"}, {"suffix", "</w>"}}, {"hel", "lo</w>", "world</w>"}) == "hello world");
}
