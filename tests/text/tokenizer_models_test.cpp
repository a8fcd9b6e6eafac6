// Models, added tokens, the public API and error reporting, on hand-made tokenizer.json files.
// Expected ids were produced with Hugging Face tokenizers 0.23 on the same JSON.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "vlm/text/tokenizer.hpp"
#include "vlm/util/error.hpp"

using nlohmann::json;
using Ids = std::vector<int64_t>;

namespace {

json tokenizer_json(json model, json pre = nullptr, json normalizer = nullptr, json added = json::array(),
                    json post = nullptr, json decoder = nullptr) {
  return {{"version", "1.0"},       {"truncation", nullptr},   {"padding", nullptr},
          {"added_tokens", added},  {"normalizer", normalizer}, {"pre_tokenizer", pre},
          {"post_processor", post}, {"decoder", decoder},       {"model", model}};
}

std::shared_ptr<const vlm::Tokenizer> make(const json& j, const json& config = json::object()) {
  return vlm::Tokenizer::from_json(j.dump(), config.dump());
}

json added_token(int id, const char* content, bool lstrip, bool rstrip, bool single_word, bool normalized, bool special) {
  return {{"id", id},         {"content", content}, {"single_word", single_word}, {"lstrip", lstrip},
          {"rstrip", rstrip}, {"normalized", normalized}, {"special", special}};
}

const json kBpeVocab = {{"<unk>", 0}, {"a", 1},      {"b", 2},      {"c", 3},      {"ab", 4},
                        {"abc", 5},   {"<0x41>", 6}, {"<0xC3>", 7}, {"<0xA9>", 8}, {"bc", 9}};

json bpe(bool fuse_unk, bool byte_fallback) {
  return {{"type", "BPE"},         {"dropout", nullptr}, {"unk_token", "<unk>"}, {"fuse_unk", fuse_unk},
          {"byte_fallback", byte_fallback}, {"vocab", kBpeVocab}, {"merges", {"a b", {"ab", "c"}}}};
}

void require_error(const json& j, const std::string& fragment) {
  try {
    make(j);
    FAIL("expected an error mentioning " << fragment);
  } catch (const vlm::Error& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(fragment) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("BPE: merges in both forms, byte fallback, unknown fusion", "[tokenizer][models]") {
  const auto fb = make(tokenizer_json(bpe(true, true)));
  CHECK(fb->encode("abc") == Ids{5});
  CHECK(fb->encode("abxyc") == Ids{4, 0, 3});
  CHECK(fb->encode("A") == Ids{6});
  CHECK(fb->encode("é") == Ids{7, 8});
  CHECK(fb->encode("abcab") == Ids{5, 4});
  CHECK(fb->encode("xé") == Ids{7, 8, 0});  // HF emits a pending unknown after later byte tokens
  const auto plain = make(tokenizer_json(bpe(false, false)));
  CHECK(plain->encode("abxyc") == Ids{4, 0, 0, 3});
  CHECK(plain->encode("é") == Ids{0});
}

TEST_CASE("BPE: continuing_subword_prefix, end_of_word_suffix, ignore_merges", "[tokenizer][models]") {
  const json affixes = {{"type", "BPE"},
                        {"vocab", {{"a", 0}, {"##b", 1}, {"##c</w>", 2}, {"ab", 3}, {"abc</w>", 4}, {"##bc</w>", 5}}},
                        {"merges", {"a ##b", "ab ##c</w>"}},
                        {"continuing_subword_prefix", "##"},
                        {"end_of_word_suffix", "</w>"}};
  const auto t = make(tokenizer_json(affixes));
  CHECK(t->encode("abc") == Ids{4});
  CHECK(t->tokenize("abc") == std::vector<std::string>{"abc</w>"});

  json merges_model = {{"type", "BPE"}, {"ignore_merges", true},
                       {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}, {"aab", 3}, {"aa", 4}}}, {"merges", {"a b", "a a"}}};
  CHECK(make(tokenizer_json(merges_model))->encode("aab") == Ids{3});
  CHECK(make(tokenizer_json(merges_model))->encode("aaab") == Ids{4, 2});
  merges_model["ignore_merges"] = false;
  CHECK(make(tokenizer_json(merges_model))->encode("aab") == Ids{0, 2});
}

TEST_CASE("Unigram: Viterbi, unknown fusion, byte fallback", "[tokenizer][models]") {
  json uni = {{"type", "Unigram"}, {"unk_id", 0}, {"byte_fallback", false},
              // json::array: a braced list of [string, x] pairs would otherwise become an object.
              {"vocab", json::array({{"<unk>", 0.0}, {"a", -1.0}, {"b", -1.5}, {"ab", -2.0}, {"abc", -5.0}, {"c", -2.0}, {"bc", -2.2}})}};
  const auto t = make(tokenizer_json(uni));
  CHECK(t->encode("abc") == Ids{1, 6});
  CHECK(t->encode("ab") == Ids{3});
  CHECK(t->encode("axyb") == Ids{1, 0, 2});
  CHECK(t->encode("xy") == Ids{0});
  uni["byte_fallback"] = true;
  uni["vocab"].push_back(json::array({"<0x78>", -3.0}));
  uni["vocab"].push_back(json::array({"<0x79>", -3.0}));
  const auto fb = make(tokenizer_json(uni));
  CHECK(fb->encode("axyb") == Ids{1, 7, 8, 2});
  CHECK(fb->encode("xz") == Ids{0});
}

TEST_CASE("WordPiece model and decoder", "[tokenizer][models]") {
  const json wp = {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"},
                   {"max_input_chars_per_word", 10},
                   {"vocab", {{"[UNK]", 0}, {"un", 1}, {"##aff", 2}, {"##able", 3}, {"play", 4}, {"##ing", 5}}}};
  const auto t = make(tokenizer_json(wp, {{"type", "WhitespaceSplit"}}, nullptr, json::array(), nullptr,
                                     {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}));
  CHECK(t->encode("unaffable playing unplay") == Ids{1, 2, 3, 4, 5, 0});
  CHECK(t->encode("unaffableunaffable") == Ids{0});  // longer than max_input_chars_per_word
  CHECK(t->decode(Ids{1, 2, 3, 4, 5}) == "unaffable playing");
}

TEST_CASE("added tokens: lstrip, rstrip, single_word, normalized, longest match", "[tokenizer][added]") {
  const json wl = {{"type", "WordLevel"}, {"vocab", {{"[UNK]", 0}, {"hello", 1}, {"world", 2}, {"x", 3}}}, {"unk_token", "[UNK]"}};
  const json added = {added_token(4, "<l>", true, false, false, false, true),
                      added_token(5, "<r>", false, true, false, false, true),
                      added_token(6, "sw", false, false, true, false, false),
                      added_token(7, "HI", false, false, false, true, false),
                      added_token(8, "<long>", false, false, false, false, true),
                      added_token(9, "<lon", false, false, false, false, true)};
  const json split = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Isolated"}, {"invert", false}};
  const auto t = make(tokenizer_json(wl, split, {{"type", "Lowercase"}}, added));
  CHECK(t->encode("hello <l>world") == Ids{1, 4, 2});
  CHECK(t->encode("hello  <r>  world") == Ids{1, 0, 0, 5, 2});
  CHECK(t->encode("sw hello") == Ids{6, 0, 1});
  CHECK(t->encode("xsw hello") == Ids{0, 0, 1});  // inside a word: not the single-word token
  CHECK(t->encode("hello sw") == Ids{1, 0, 6});
  CHECK(t->encode("HI") == Ids{7});  // normalized token, matched after lower-casing
  CHECK(t->encode("hi") == Ids{7});
  CHECK(t->encode("<long><lon") == Ids{8, 9});
  CHECK(t->encode("<LONG>") == Ids{0});  // raw tokens are matched before normalization
  // No decoder: tokens joined by spaces; special tokens can be skipped.
  CHECK(t->decode(Ids{1, 4, 2}, false) == "hello <l> world");
  CHECK(t->decode(Ids{1, 4, 2}, true) == "hello world");
  CHECK(t->is_special(4));
  CHECK_FALSE(t->is_special(6));
}

TEST_CASE("tokenizer_config: named tokens, templates, Llama bos/eos", "[tokenizer][config]") {
  const json wl = {{"type", "WordLevel"}, {"vocab", {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}, {"hi", 3}}}, {"unk_token", "<unk>"}};
  const json config = {{"tokenizer_class", "LlamaTokenizer"},
                       {"bos_token", {{"__type", "AddedToken"}, {"content", "<s>"}, {"lstrip", false}, {"rstrip", false},
                                      {"normalized", false}, {"single_word", false}}},
                       {"eos_token", "</s>"},
                       {"pad_token", "<pad>"},
                       {"add_eos_token", true},
                       {"chat_template", {{{"name", "default"}, {"template", "A"}}, {{"name", "tool_use"}, {"template", "B"}}}}};
  const auto t = make(tokenizer_json(wl, {{"type", "WhitespaceSplit"}}), config);
  CHECK(t->encode("hi") == Ids{1, 3, 2});  // LlamaTokenizerFast rebuilds the template from add_*_token
  CHECK(t->encode("hi", false) == Ids{3});
  CHECK(t->encode("<s>hi") == Ids{1, 1, 3, 2});  // named specials become added tokens
  CHECK(t->bos_id() == 1);
  CHECK(t->eos_id() == 2);
  REQUIRE(t->pad_token());
  CHECK(t->pad_token()->content == "<pad>");
  CHECK(t->pad_id() == 4);  // not in the vocabulary: added after it, as transformers does
  CHECK(t->vocab_size() == 5);
  CHECK(t->chat_template("tool_use") == "B");
  CHECK(t->chat_template() == "A");
  CHECK_FALSE(t->chat_template("missing"));
  CHECK(t->is_special(1));
  CHECK(t->decode(Ids{1, 3, 2}, true) == "hi");
}

TEST_CASE("decode: ids beyond the vocabulary, clean-up", "[tokenizer][decode]") {
  const json wl = {{"type", "WordLevel"}, {"vocab", {{"[UNK]", 0}, {"hello", 1}, {",", 2}, {"'s", 3}}}, {"unk_token", "[UNK]"}};
  const auto clean = make(tokenizer_json(wl, {{"type", "WhitespaceSplit"}}), {{"clean_up_tokenization_spaces", true}});
  const auto raw = make(tokenizer_json(wl, {{"type", "WhitespaceSplit"}}), {{"clean_up_tokenization_spaces", false}});
  CHECK(clean->decode(Ids{1, 2, 1, 3}) == "hello, hello's");
  CHECK(raw->decode(Ids{1, 2, 1, 3}) == "hello , hello 's");
  // transformers 4.47: a tokenizer_config.json without the key does not clean up (the default became false).
  const auto unset = make(tokenizer_json(wl, {{"type", "WhitespaceSplit"}}), json::object());
  CHECK_FALSE(unset->clean_up_tokenization_spaces());
  CHECK(unset->decode(Ids{1, 2, 1, 3}) == "hello , hello 's");
  CHECK(raw->decode(Ids{1, 7, 1}) == "hello<id 7 beyond tokenizer>hello");
  CHECK(raw->decode(Ids{-3}) == "<id -3 beyond tokenizer>");
  CHECK(raw->decode(Ids{}) == "");
  CHECK(raw->id_to_token(7) == std::nullopt);
  CHECK(raw->token_to_id("hello") == 1);
  CHECK(raw->token_to_id("nope") == std::nullopt);
}

TEST_CASE("encode_batch: padding and truncation", "[tokenizer][batch]") {
  const json wl = {{"type", "WordLevel"}, {"vocab", {{"<pad>", 0}, {"a", 1}, {"b", 2}, {"c", 3}}}, {"unk_token", "<pad>"}};
  const auto t = make(tokenizer_json(wl, {{"type", "WhitespaceSplit"}}), {{"pad_token", "<pad>"}});
  const std::vector<std::string> texts = {"a b c", "a"};
  auto right = t->encode_batch(texts);
  CHECK(right.input_ids == std::vector<Ids>{{1, 2, 3}, {1, 0, 0}});
  CHECK(right.attention_mask == std::vector<Ids>{{1, 1, 1}, {1, 0, 0}});
  vlm::BatchEncodeOptions options;
  options.padding_side = vlm::TextSide::Left;
  options.max_length = 2;
  options.truncation_side = vlm::TextSide::Left;
  auto left = t->encode_batch(texts, options);
  CHECK(left.input_ids == std::vector<Ids>{{2, 3}, {0, 1}});
  CHECK(left.attention_mask == std::vector<Ids>{{1, 1}, {0, 1}});
  options = {};
  options.pad_to_multiple_of = 4;
  options.pad_id = 9;
  CHECK(t->encode_batch(texts, options).input_ids == std::vector<Ids>{{1, 2, 3, 9}, {1, 9, 9, 9}});
}

TEST_CASE("unsupported components and malformed files are named errors", "[tokenizer][errors]") {
  const json model = {{"type", "WordLevel"}, {"vocab", {{"a", 0}}}, {"unk_token", "a"}};
  require_error(tokenizer_json(model, nullptr, {{"type", "Foo"}}), "tokenizer.json: normalizer type \"Foo\" is not supported");
  require_error(tokenizer_json(model, {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Bar"}}}}}),
                "pre_tokenizer.pretokenizers[0] type \"Bar\" is not supported");
  require_error(tokenizer_json({{"type", "Baz"}, {"vocab", {{"a", 0}}}}), "model type \"Baz\" is not supported");
  require_error(tokenizer_json(model, nullptr, nullptr, json::array(), {{"type", "Qux"}}), "post_processor type \"Qux\"");
  require_error(tokenizer_json(model, nullptr, nullptr, json::array(), nullptr, {{"type", "CTC"}}), "decoder type \"CTC\"");
  require_error(tokenizer_json(model, {{"type", "Split"}, {"pattern", {{"String", "x"}}}, {"behavior", "Sideways"}}),
                "split behavior \"Sideways\"");
  require_error(tokenizer_json(model, {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}}),
                "invalid regex");
  require_error(tokenizer_json(model, {{"type", "Metaspace"}, {"prepend_scheme", "sometimes"}}), "prepend_scheme \"sometimes\"");
  json dropout = bpe(false, false);
  dropout["dropout"] = 0.1;
  require_error(tokenizer_json(dropout), "dropout");
  json bad_merge = bpe(false, false);
  bad_merge["merges"] = {"a zz"};
  require_error(tokenizer_json(bad_merge), "model.merges[0]");
  CHECK_THROWS_AS(vlm::Tokenizer::from_json("{ not json"), vlm::Error);
  CHECK_THROWS_AS(vlm::Tokenizer::load("/nonexistent/tokenizer/dir"), vlm::Error);
}
