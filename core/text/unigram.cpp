// Unigram language-model tokenization (HF models/unigram, SentencePiece's unigram): Viterbi search for
// the segmentation with the highest total piece score. Characters no piece covers become the unknown
// token (scored min_score - 10, consecutive ones fused), or their bytes when byte_fallback is set.
#include <limits>

#include "models.hpp"
#include "utf8.hpp"
#include "vocabulary.hpp"
#include "word_cache.hpp"

namespace vlm::text_detail {
namespace {

constexpr double kUnknownPenalty = 10.0;

class UnigramModel final : public Model {
 public:
  UnigramModel(const JsonAt& json, ModelTables& tables);

  void tokenize(std::string_view word, std::vector<int64_t>& ids) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  std::size_t id_bound() const override { return vocab_.id_bound(); }

 private:
  void emit(std::string_view piece, int32_t id, std::vector<int64_t>& ids) const;

  Vocabulary vocab_;
  std::vector<double> scores_;
  ByteTrie trie_;
  std::optional<int32_t> unk_id_;
  double unk_score_ = 0.0;
  bool byte_fallback_ = false;
  bool fuse_unk_ = true;
  std::array<int32_t, 256> byte_ids_{};
  mutable WordCache cache_;
};

UnigramModel::UnigramModel(const JsonAt& json, ModelTables& tables) {
  const std::string where = json.key_path("vocab");
  if (tables.vocab_kind != ModelTables::VocabKind::List) fail("{}: expected an array of [piece, score]", where);
  double min_score = std::numeric_limits<double>::infinity();
  vocab_.reserve(tables.vocab_list.size());
  for (std::size_t i = 0; i < tables.vocab_list.size(); ++i) {
    const auto& [piece, score] = tables.vocab_list[i];
    vocab_.add(piece, int32_t(i), where);
    scores_.push_back(score);
    trie_.insert(piece, int32_t(i));
    min_score = std::min(min_score, score);
  }
  unk_score_ = min_score - kUnknownPenalty;
  if (json.has("unk_id")) {
    const auto unk = json.integer("unk_id");
    if (unk < 0 || std::size_t(unk) >= scores_.size()) fail("{}: unk_id {} is outside the vocabulary", json.path, unk);
    unk_id_ = int32_t(unk);
  }
  byte_fallback_ = json.boolean("byte_fallback", false);
  for (int b = 0; b < 256; ++b) byte_ids_[std::size_t(b)] = vocab_.find(byte_fallback_token(static_cast<unsigned char>(b))).value_or(-1);
}

void UnigramModel::emit(std::string_view piece, int32_t id, std::vector<int64_t>& ids) const {
  if (id >= 0 && (!unk_id_ || id != *unk_id_)) {
    ids.push_back(id);
    return;
  }
  // The unknown stretch: looked up whole (it may be a fused run), else bytes, else the unk id.
  if (auto known = vocab_.find(piece)) {
    ids.push_back(*known);
    return;
  }
  if (byte_fallback_) {
    bool all = true;
    for (char c : piece) all = all && byte_ids_[static_cast<unsigned char>(c)] >= 0;
    if (all) {
      for (char c : piece) ids.push_back(byte_ids_[static_cast<unsigned char>(c)]);
      return;
    }
  }
  if (!unk_id_) fail("tokenizer.json: Unigram model has no unk_id but met text outside its vocabulary");
  ids.push_back(*unk_id_);
}

void UnigramModel::tokenize(std::string_view word, std::vector<int64_t>& ids) const {
  if (word.empty()) return;
  if (cache_.lookup(word, ids)) return;
  struct Best {
    double score = 0.0;
    int32_t start = -1;  // -1: not reached yet
    int32_t id = -1;
  };
  thread_local std::vector<Best> best;
  best.assign(word.size() + 1, Best{});
  best[0].start = 0;
  for (std::size_t start = 0; start < word.size();) {
    const std::size_t char_len = sequence_length(static_cast<unsigned char>(word[start]));
    if (best[start].start < 0) {  // only reachable positions extend (none are unreachable in practice)
      start += char_len;
      continue;
    }
    const double base = best[start].score;
    bool covers_char = false;
    trie_.for_each_prefix(word.substr(start), [&](std::size_t length, int32_t id) {
      Best& target = best[start + length];
      const double candidate = base + scores_[std::size_t(id)];
      if (target.start < 0 || candidate > target.score) target = {candidate, int32_t(start), id};
      if (length == char_len) covers_char = true;
    });
    if (!covers_char) {
      Best& target = best[start + char_len];
      const double candidate = base + unk_score_;
      if (target.start < 0 || candidate > target.score) target = {candidate, int32_t(start), unk_id_.value_or(-1)};
    }
    start += char_len;
  }
  // Walk back from the end; runs of unknowns fuse into one piece.
  struct Span {
    std::size_t start, end;
    int32_t id;
  };
  thread_local std::vector<Span> spans;
  spans.clear();
  for (std::size_t end = word.size(); end > 0;) {
    const Best& node = best[end];
    const auto start = std::size_t(node.start);
    const bool unknown = node.id < 0 || (unk_id_ && node.id == *unk_id_);
    if (fuse_unk_ && unknown && !spans.empty() && spans.back().id < 0 && spans.back().start == end)
      spans.back().start = start;
    else
      spans.push_back({start, end, unknown ? -1 : node.id});
    end = start;
  }
  const std::size_t first = ids.size();
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) emit(word.substr(it->start, it->end - it->start), it->id, ids);
  cache_.store(word, ids.data() + first, ids.size() - first);
}

}  // namespace

std::unique_ptr<Model> unigram_model_from_json(const JsonAt& json, ModelTables& tables) {
  return std::make_unique<UnigramModel>(json, tables);
}

}  // namespace vlm::text_detail
