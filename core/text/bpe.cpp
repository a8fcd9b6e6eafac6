// Byte-pair encoding (HF models/bpe): a word starts as characters (or byte-fallback tokens) and the
// lowest-ranked adjacent pair is merged until no listed merge applies. A min-heap of candidate merges
// over a linked list of symbols keeps this O(n log n) even for multi-megabyte words.
#include <algorithm>
#include <queue>

#include "models.hpp"
#include "utf8.hpp"
#include "vocabulary.hpp"
#include "word_cache.hpp"

namespace vlm::text_detail {
namespace {

struct MergeTarget {
  int32_t rank;
  int32_t new_id;
};

// Open-addressing map from a packed (left id, right id) pair to its merge.
class PairMap {
 public:
  void reserve(std::size_t count) {
    std::size_t capacity = 16;
    while (capacity < count * 2) capacity <<= 1;
    keys_.assign(capacity, kEmpty);
    values_.assign(capacity, {});
    mask_ = capacity - 1;
  }
  void insert_or_assign(uint64_t key, MergeTarget value) {
    std::size_t slot = hash(key) & mask_;
    while (keys_[slot] != kEmpty && keys_[slot] != key) slot = (slot + 1) & mask_;
    keys_[slot] = key;
    values_[slot] = value;
  }
  const MergeTarget* find(uint64_t key) const {
    std::size_t slot = hash(key) & mask_;
    while (true) {
      if (keys_[slot] == key) return &values_[slot];
      if (keys_[slot] == kEmpty) return nullptr;
      slot = (slot + 1) & mask_;
    }
  }
  static uint64_t pack(int32_t left, int32_t right) { return (uint64_t(uint32_t(left)) << 32) | uint32_t(right); }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  static std::size_t hash(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return std::size_t(key);
  }
  std::vector<uint64_t> keys_;
  std::vector<MergeTarget> values_;
  std::size_t mask_ = 0;
};

struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;  // -1 at the ends; id == -1 marks a symbol merged into its left neighbour
};

struct MergeCandidate {
  int32_t rank;
  int32_t pos;
  int32_t new_id;
  // std::priority_queue is a max-heap: "less" means later rank, then later position.
  bool operator<(const MergeCandidate& other) const {
    return rank != other.rank ? rank > other.rank : pos > other.pos;
  }
};

class BpeModel final : public Model {
 public:
  BpeModel(const JsonAt& json, ModelTables& tables);

  void tokenize(std::string_view word, std::vector<int64_t>& ids) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  std::size_t id_bound() const override { return vocab_.id_bound(); }

 private:
  void load_merges(const std::string& where, std::vector<MergeEntry>& merges);
  bool split_merge_line(const std::string& line, std::string& left, std::string& right) const;
  void initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const;
  void merge(std::vector<Symbol>& symbols) const;
  int32_t unk_id() const;

  Vocabulary vocab_;
  PairMap merges_;
  std::optional<std::string> unk_token_;
  std::string prefix_;  // continuing_subword_prefix
  std::string suffix_;  // end_of_word_suffix
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  std::array<int32_t, 256> byte_ids_{};   // byte-fallback token per byte, -1 when missing
  std::vector<int32_t> char_ids_;         // vocab id of lone characters below U+0800, -1 when absent
  mutable WordCache cache_;
};

BpeModel::BpeModel(const JsonAt& json, ModelTables& tables) {
  if (json.has("dropout")) {
    const auto dropout = json.at("dropout");
    if (!dropout.node.is_number() || dropout.node.get<double>() != 0.0)
      fail("{}: BPE dropout is not supported (must be null)", dropout.path);
  }
  vocab_from_map(json, tables, vocab_);
  unk_token_ = json.optional_string("unk_token");
  prefix_ = json.optional_string("continuing_subword_prefix").value_or("");
  suffix_ = json.optional_string("end_of_word_suffix").value_or("");
  byte_fallback_ = json.boolean("byte_fallback", false);
  fuse_unk_ = json.boolean("fuse_unk", false);
  ignore_merges_ = json.boolean("ignore_merges", false);
  if (!tables.has_merges) fail("{}: missing required key", json.key_path("merges"));
  load_merges(json.key_path("merges"), tables.merges);
  tables.merges = {};

  for (int b = 0; b < 256; ++b) byte_ids_[std::size_t(b)] = vocab_.find(byte_fallback_token(static_cast<unsigned char>(b))).value_or(-1);
  char_ids_.assign(0x800, -1);
  for (char32_t cp = 0; cp < 0x800; ++cp) char_ids_[cp] = vocab_.find(to_utf8(cp)).value_or(-1);
}

void BpeModel::load_merges(const std::string& where, std::vector<MergeEntry>& merges) {
  merges_.reserve(merges.size());
  std::string left, right, merged;
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    MergeEntry& entry = merges[rank];
    if (entry.is_line) {  // "left right"
      if (!split_merge_line(entry.left, left, right))
        fail("{}[{}]: expected \"left right\" with both parts in the vocabulary, got \"{}\"", where, rank, entry.left);
    } else {
      left = std::move(entry.left);
      right = std::move(entry.right);
    }
    const auto left_id = vocab_.find(left);
    const auto right_id = vocab_.find(right);
    if (!left_id) fail("{}[{}]: token \"{}\" is not in the vocabulary", where, rank, left);
    if (!right_id) fail("{}[{}]: token \"{}\" is not in the vocabulary", where, rank, right);
    // The right part loses its continuing-subword prefix when merged.
    merged.assign(left);
    merged.append(right, std::min(prefix_.size(), right.size()));
    const auto merged_id = vocab_.find(merged);
    if (!merged_id) fail("{}[{}]: merged token \"{}\" is not in the vocabulary", where, rank, merged);
    merges_.insert_or_assign(PairMap::pack(*left_id, *right_id), {int32_t(rank), *merged_id});
  }
}

// "left right" is ambiguous when the tokens themselves contain spaces (files converted from
// SentencePiece vocabularies with raw-space pieces; HF's Rust loader rejects those files). The first
// separator for which left, right and left+right are all tokens wins; with a single space this is
// exactly HF's reading.
bool BpeModel::split_merge_line(const std::string& line, std::string& left, std::string& right) const {
  for (std::size_t space = line.find(' '); space != std::string::npos; space = line.find(' ', space + 1)) {
    left = line.substr(0, space);
    right = line.substr(space + 1);
    if (left.empty() || right.empty()) continue;
    if (line.find(' ', space + 1) == std::string::npos && line.find(' ') == space) return true;  // unambiguous
    if (vocab_.find(left) && vocab_.find(right) &&
        vocab_.find(left + right.substr(std::min(prefix_.size(), right.size()))))
      return true;
  }
  return false;
}

int32_t BpeModel::unk_id() const {
  const auto id = vocab_.find(*unk_token_);
  if (!id) fail("tokenizer.json: model.unk_token \"{}\" is not in the vocabulary", *unk_token_);
  return *id;
}

void BpeModel::initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const {
  symbols.clear();
  auto add = [&](int32_t id) {
    const auto index = int32_t(symbols.size());
    symbols.push_back({id, index - 1, -1});
    if (index > 0) symbols[std::size_t(index - 1)].next = index;
  };
  int32_t pending_unk = -1;  // HF defers unknown characters so consecutive ones can fuse
  std::string decorated;
  for (std::size_t pos = 0; pos < word.size();) {
    const std::size_t start = pos;
    const char32_t cp = next_code_point(word, pos);
    const bool first = start == 0, last = pos == word.size();
    std::string_view piece = word.substr(start, pos - start);
    int32_t id = -1;
    if (cp < 0x800 && (first || prefix_.empty()) && (!last || suffix_.empty())) {
      id = char_ids_[cp];
    } else {
      decorated.clear();
      if (!first) decorated += prefix_;
      decorated += piece;
      if (last) decorated += suffix_;
      piece = decorated;
      id = vocab_.find(piece).value_or(-1);
    }
    if (id >= 0) {
      if (pending_unk >= 0) add(pending_unk), pending_unk = -1;
      add(id);
      continue;
    }
    if (byte_fallback_ &&
        std::all_of(piece.begin(), piece.end(), [&](char c) { return byte_ids_[static_cast<unsigned char>(c)] >= 0; })) {
      for (char c : piece) add(byte_ids_[static_cast<unsigned char>(c)]);
      continue;
    }
    if (!unk_token_) continue;  // no unk token: the character is dropped, as in HF
    if (pending_unk >= 0 && !fuse_unk_) add(pending_unk);
    pending_unk = unk_id();
  }
  if (pending_unk >= 0) add(pending_unk);
}

void BpeModel::merge(std::vector<Symbol>& symbols) const {
  thread_local std::vector<MergeCandidate> heap_storage;
  heap_storage.clear();
  std::priority_queue<MergeCandidate> queue(std::less<MergeCandidate>(), std::move(heap_storage));
  auto consider = [&](int32_t pos) {
    const int32_t next = symbols[std::size_t(pos)].next;
    if (next < 0) return;
    if (const auto* m = merges_.find(PairMap::pack(symbols[std::size_t(pos)].id, symbols[std::size_t(next)].id)))
      queue.push({m->rank, pos, m->new_id});
  };
  for (int32_t i = 0; i + 1 < int32_t(symbols.size()); ++i) consider(i);
  while (!queue.empty()) {
    const MergeCandidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[std::size_t(top.pos)];
    if (left.id < 0 || left.next < 0) continue;
    Symbol& right = symbols[std::size_t(left.next)];
    // Stale entry: one side changed since it was queued.
    const auto* current = merges_.find(PairMap::pack(left.id, right.id));
    if (!current || current->new_id != top.new_id) continue;
    left.id = top.new_id;
    right.id = -1;
    left.next = right.next;
    if (left.next >= 0) symbols[std::size_t(left.next)].prev = top.pos;
    if (left.prev >= 0) consider(left.prev);
    consider(top.pos);
  }
}

void BpeModel::tokenize(std::string_view word, std::vector<int64_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_)
    if (auto id = vocab_.find(word)) {
      ids.push_back(*id);
      return;
    }
  if (cache_.lookup(word, ids)) return;
  thread_local std::vector<Symbol> symbols;
  initial_symbols(word, symbols);
  merge(symbols);
  const std::size_t first = ids.size();
  for (const auto& s : symbols)
    if (s.id >= 0) ids.push_back(s.id);
  cache_.store(word, ids.data() + first, ids.size() - first);
}

}  // namespace

std::unique_ptr<Model> bpe_model_from_json(const JsonAt& json, ModelTables& tables) {
  return std::make_unique<BpeModel>(json, tables);
}

}  // namespace vlm::text_detail
