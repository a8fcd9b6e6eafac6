#include "vocabulary.hpp"

#include <algorithm>

#include "vlm/util/error.hpp"

namespace vlm::text_detail {

void Vocabulary::reserve(std::size_t count) {
  std::size_t capacity = 16;
  while (capacity < count * 2) capacity <<= 1;
  if (capacity > slots_.size()) rehash(capacity);
}

void Vocabulary::rehash(std::size_t capacity) {
  slots_.assign(capacity, Slot{0, -1});
  mask_ = capacity - 1;
  for (std::size_t id = 0; id < tokens_.size(); ++id) {
    if (!present_[id]) continue;
    const std::size_t h = StringHash{}(tokens_[id]);
    std::size_t i = h & mask_;
    while (slots_[i].id >= 0) {
      if (tokens_[std::size_t(slots_[i].id)] == tokens_[id]) break;  // duplicate text: the later id wins
      i = (i + 1) & mask_;
    }
    slots_[i] = {uint32_t(h >> 32), int32_t(id)};
  }
}

void Vocabulary::add(std::string token, int32_t id, std::string_view where) {
  if (id < 0) fail("{}: negative id {} for token \"{}\"", where, id, token);
  if (std::size_t(id) >= tokens_.size()) {
    tokens_.resize(std::size_t(id) + 1);
    present_.resize(std::size_t(id) + 1, false);
  }
  if (present_[std::size_t(id)]) {
    if (tokens_[std::size_t(id)] != token)
      fail("{}: id {} is used by both \"{}\" and \"{}\"", where, id, tokens_[std::size_t(id)], token);
    return;
  }
  if ((count_ + 1) * 2 > slots_.size()) rehash(std::max<std::size_t>(16, slots_.size() * 2));
  const std::size_t h = StringHash{}(token);
  std::size_t i = h & mask_;
  bool duplicate = false;
  while (slots_[i].id >= 0) {
    if (tokens_[std::size_t(slots_[i].id)] == token) {
      duplicate = true;  // HF keeps the last id of a token listed twice
      break;
    }
    i = (i + 1) & mask_;
  }
  slots_[i] = {uint32_t(h >> 32), id};
  if (!duplicate) ++count_;
  tokens_[std::size_t(id)] = std::move(token);
  present_[std::size_t(id)] = true;
}

void ByteTrie::insert(std::string_view key, int32_t value) {
  int32_t node = 0;
  for (char ch : key) {
    const auto byte = static_cast<unsigned char>(ch);
    int32_t next = child(node, byte);
    if (next < 0) {
      next = int32_t(nodes_.size());
      nodes_.emplace_back();
      if (node == 0) {
        root_children_[byte] = next;
      } else {
        auto& kids = nodes_[std::size_t(node)].children;
        kids.insert(std::lower_bound(kids.begin(), kids.end(), std::make_pair(byte, int32_t(-1))), {byte, next});
      }
    }
    node = next;
  }
  if (node != 0 && nodes_[std::size_t(node)].value < 0) nodes_[std::size_t(node)].value = value;
}

}  // namespace vlm::text_detail
