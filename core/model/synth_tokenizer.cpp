// A small byte-level BPE tokenizer of the project's own for synthetic checkpoints: the GPT-2 byte
// alphabet plus merges learned greedily from a fixed corpus, in Hugging Face tokenizer.json format.
#include <algorithm>
#include <map>
#include <sstream>

#include "vlm/model/synth.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

namespace {

constexpr const char* kCorpus =
    "The quick brown fox jumps over the lazy dog. A picture shows a cat sitting on a red chair next to the "
    "window, and the light of the morning sun falls on the floor. Describe this image in one sentence. What "
    "is in the picture? There is a small house with a green door and two windows, a tree in the garden and "
    "a blue sky with white clouds. The person in the photo is holding a cup of coffee and reading a book. "
    "Compare the first image with the second image. The video shows a dog running on the beach near the "
    "water, then the dog stops and looks at the camera. Answer the question about the image: how many "
    "people are there? There are three people standing in front of the building. The text on the sign "
    "says open from nine to five. The chart shows the number of visitors per month, which grows from "
    "January to June and falls after the summer. You are a helpful assistant. Please describe the scene "
    "in detail, including the colors, the objects and their positions. The model answers the question "
    "with a short description of what it sees in the picture and the video. 0123456789 numbers and dates "
    "like 2024-05-17 appear in documents, tables and receipts.";

// GPT-2's reversible byte -> printable code point mapping.
std::vector<std::string> byte_symbols() {
  std::vector<int> code(256, -1);
  auto keep = [&](int lo, int hi) {
    for (int b = lo; b <= hi; ++b) code[size_t(b)] = b;
  };
  keep('!', '~');
  keep(0xA1, 0xAC);
  keep(0xAE, 0xFF);
  int next = 256;
  for (int b = 0; b < 256; ++b)
    if (code[size_t(b)] < 0) code[size_t(b)] = next++;
  std::vector<std::string> symbols(256);
  for (int b = 0; b < 256; ++b) {
    const int cp = code[size_t(b)];
    std::string s;
    if (cp < 0x80) {
      s.push_back(char(cp));
    } else {  // two-byte UTF-8 suffices: code points stay below 0x800
      s.push_back(char(0xC0 | (cp >> 6)));
      s.push_back(char(0x80 | (cp & 0x3F)));
    }
    symbols[size_t(b)] = s;
  }
  return symbols;
}

}  // namespace

Json make_synthetic_tokenizer_json(int merges, const std::vector<std::string>& special_tokens, size_t leading) {
  if (merges < 0 || merges > 400) fail("synthetic tokenizer: {} merges requested, at most 400 supported", merges);
  const auto symbols = byte_symbols();

  // Words as ByteLevel pre-tokenization sees them: a leading space becomes part of the word.
  std::map<std::vector<std::string>, int> words;
  std::istringstream stream(kCorpus);
  std::string word;
  bool first = true;
  while (stream >> word) {
    std::vector<std::string> pieces;
    if (!first) pieces.push_back(symbols[' ']);
    for (unsigned char c : word) pieces.push_back(symbols[c]);
    ++words[pieces];
    first = false;
  }

  if (leading > special_tokens.size())
    fail("synthetic tokenizer: {} leading special tokens of {}", leading, special_tokens.size());
  const auto first_byte = int64_t(leading);
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b) vocab[symbols[size_t(b)]] = first_byte + b;
  Json merge_list = Json::array();
  int64_t next_id = first_byte + 256;
  while (int(merge_list.size()) < merges) {
    std::map<std::pair<std::string, std::string>, int> counts;
    for (const auto& [pieces, n] : words)
      for (size_t i = 0; i + 1 < pieces.size(); ++i) counts[{pieces[i], pieces[i + 1]}] += n;
    // Most frequent pair; ties go to the smallest pair so the result never depends on map order.
    const std::pair<std::string, std::string>* best = nullptr;
    int best_count = 0;
    for (const auto& [pair, n] : counts) {
      const std::string merged = pair.first + pair.second;
      if (n > best_count && !vocab.contains(merged)) {
        best = &pair;
        best_count = n;
      }
    }
    if (!best) fail("synthetic tokenizer: the corpus supports only {} merges", merge_list.size());
    const auto [left, right] = *best;
    merge_list.push_back(left + " " + right);
    vocab[left + right] = next_id++;
    std::map<std::vector<std::string>, int> merged_words;
    for (const auto& [pieces, n] : words) {
      std::vector<std::string> out;
      for (size_t i = 0; i < pieces.size(); ++i) {
        if (i + 1 < pieces.size() && pieces[i] == left && pieces[i + 1] == right) {
          out.push_back(left + right);
          ++i;
        } else {
          out.push_back(pieces[i]);
        }
      }
      merged_words[out] += n;
    }
    words = std::move(merged_words);
  }

  Json added = Json::array();
  for (size_t i = 0; i < special_tokens.size(); ++i) {
    const std::string& token = special_tokens[i];
    added.push_back({{"id", i < leading ? int64_t(i) : next_id++}, {"content", token}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  }
  const Json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  Json post = byte_level;
  post["trim_offsets"] = false;
  return Json{{"version", "1.0"},
              {"truncation", nullptr},
              {"padding", nullptr},
              {"added_tokens", added},
              {"normalizer", nullptr},
              {"pre_tokenizer", byte_level},
              {"post_processor", post},
              {"decoder", byte_level},
              {"model",
               {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", ""},
                {"end_of_word_suffix", ""}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
                {"vocab", vocab}, {"merges", merge_list}}}};
}

}  // namespace vlm
