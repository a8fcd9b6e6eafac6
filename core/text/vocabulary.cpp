#include "vocabulary.hpp"

#include <algorithm>

#include "vlm/util/error.hpp"

namespace vlm::text_detail {

void Vocabulary::add(std::string token, int32_t id, std::string_view where) {
  if (id < 0) fail("{}: negative id {} for token \"{}\"", where, id, token);
  if (std::size_t(id) >= tokens_.size()) {
    tokens_.resize(std::size_t(id) + 1);
    present_.resize(std::size_t(id) + 1, false);
  }
  if (present_[std::size_t(id)] && tokens_[std::size_t(id)] != token)
    fail("{}: id {} is used by both \"{}\" and \"{}\"", where, id, tokens_[std::size_t(id)], token);
  auto [it, inserted] = ids_.emplace(token, id);
  // HF keeps the last id of a duplicated token; the id -> token side keeps both.
  if (!inserted) it->second = id;
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
