// WordPiece (greedy longest-match-first with a continuation prefix, as BERT) and WordLevel (whole-word
// lookup) models.
#include "models.hpp"
#include "utf8.hpp"
#include "vocabulary.hpp"

namespace vlm::text_detail {
namespace {

Vocabulary vocab_from_tables(const JsonAt& json, ModelTables& tables) {
  Vocabulary v;
  vocab_from_map(json, tables, v);
  return v;
}

class WordPieceModel final : public Model {
 public:
  WordPieceModel(const JsonAt& json, ModelTables& tables)
      : vocab_(vocab_from_tables(json, tables)),
        unk_token_(json.has("unk_token") ? json.string("unk_token") : "[UNK]"),
        prefix_(json.has("continuing_subword_prefix") ? json.string("continuing_subword_prefix") : "##"),
        max_chars_(json.has("max_input_chars_per_word") ? std::size_t(json.integer("max_input_chars_per_word")) : 100) {}

  void tokenize(std::string_view word, std::vector<int64_t>& ids) const override {
    if (count_code_points(word) > max_chars_) return push_unk(ids);
    const std::size_t first = ids.size();
    std::string candidate;
    for (std::size_t start = 0; start < word.size();) {
      std::optional<int32_t> found;
      std::size_t found_end = start;
      // Longest vocabulary entry starting at `start`, shrinking one character at a time.
      for (std::size_t end = word.size(); end > start;) {
        candidate.assign(start > 0 ? prefix_ : "");
        candidate.append(word.substr(start, end - start));
        if (auto id = vocab_.find(candidate)) {
          found = id;
          found_end = end;
          break;
        }
        do --end;
        while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
      }
      if (!found) {  // one unmatched piece makes the whole word unknown
        ids.resize(first);
        return push_unk(ids);
      }
      ids.push_back(*found);
      start = found_end;
    }
  }
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  std::size_t id_bound() const override { return vocab_.id_bound(); }

 private:
  void push_unk(std::vector<int64_t>& ids) const {
    const auto id = vocab_.find(unk_token_);
    if (!id) fail("tokenizer.json: WordPiece unk_token \"{}\" is not in the vocabulary", unk_token_);
    ids.push_back(*id);
  }
  Vocabulary vocab_;
  std::string unk_token_;
  std::string prefix_;
  std::size_t max_chars_;
};

class WordLevelModel final : public Model {
 public:
  WordLevelModel(const JsonAt& json, ModelTables& tables)
      : vocab_(vocab_from_tables(json, tables)), unk_token_(json.optional_string("unk_token")) {}

  void tokenize(std::string_view word, std::vector<int64_t>& ids) const override {
    if (auto id = vocab_.find(word)) return ids.push_back(*id);
    const auto unk = unk_token_ ? vocab_.find(*unk_token_) : std::nullopt;
    if (!unk) fail("tokenizer.json: WordLevel model has no usable unk_token for \"{}\"", word);
    ids.push_back(*unk);
  }
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  std::size_t id_bound() const override { return vocab_.id_bound(); }

 private:
  Vocabulary vocab_;
  std::optional<std::string> unk_token_;
};

}  // namespace

std::unique_ptr<Model> wordpiece_model_from_json(const JsonAt& json, ModelTables& tables) {
  return std::make_unique<WordPieceModel>(json, tables);
}
std::unique_ptr<Model> wordlevel_model_from_json(const JsonAt& json, ModelTables& tables) {
  return std::make_unique<WordLevelModel>(json, tables);
}

}  // namespace vlm::text_detail
