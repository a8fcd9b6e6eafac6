#pragma once
// Token string <-> id tables shared by the models, with allocation-free string_view lookups.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vlm::text_detail {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Open addressing over ids (a token's text lives once, in tokens_): lookups touch one slot array and
// the candidate token, which matters for the ~1M lookups of loading a large BPE merge list.
class Vocabulary {
 public:
  void reserve(std::size_t count);
  // Adds `token` with `id`; `where` names the table in errors (a second token for one id).
  void add(std::string token, int32_t id, std::string_view where);

  std::optional<int32_t> find(std::string_view token) const {
    if (slots_.empty()) return std::nullopt;
    const std::size_t h = StringHash{}(token);
    const auto tag = uint32_t(h >> 32);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.id < 0) return std::nullopt;
      if (slot.tag == tag && tokens_[std::size_t(slot.id)] == token) return slot.id;
    }
  }
  const std::string* token(int32_t id) const {
    if (id < 0 || std::size_t(id) >= tokens_.size() || !present_[std::size_t(id)]) return nullptr;
    return &tokens_[std::size_t(id)];
  }
  std::size_t id_bound() const { return tokens_.size(); }  // highest id + 1
  std::size_t size() const { return count_; }

 private:
  struct Slot {
    uint32_t tag;  // high hash bits, to skip most string comparisons
    int32_t id;    // -1 = empty
  };
  void rehash(std::size_t capacity);
  std::vector<std::string> tokens_;
  std::vector<bool> present_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t count_ = 0;
};

// Prefix lookups over a set of byte strings (Unigram lattices, added-token matching).
class ByteTrie {
 public:
  void insert(std::string_view key, int32_t value);
  // Calls visit(length, value) for every stored key that is a prefix of `text`, shortest first.
  template <typename Visit>
  void for_each_prefix(std::string_view text, Visit&& visit) const {
    int32_t node = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      node = child(node, static_cast<unsigned char>(text[i]));
      if (node < 0) return;
      if (nodes_[std::size_t(node)].value >= 0) visit(i + 1, nodes_[std::size_t(node)].value);
    }
  }
  bool can_start_with(unsigned char byte) const { return root_children_[byte] >= 0; }
  bool empty() const { return nodes_.size() <= 1; }

 private:
  struct Node {
    int32_t value = -1;
    std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
  };
  int32_t child(int32_t node, unsigned char byte) const {
    if (node == 0) return root_children_[byte];
    const auto& kids = nodes_[std::size_t(node)].children;
    for (const auto& [b, index] : kids)
      if (b == byte) return index;
    return -1;
  }
  std::vector<Node> nodes_ = std::vector<Node>(1);
  std::array<int32_t, 256> root_children_ = filled();
  static std::array<int32_t, 256> filled() {
    std::array<int32_t, 256> a;
    a.fill(-1);
    return a;
  }
};

}  // namespace vlm::text_detail
