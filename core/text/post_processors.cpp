#include "post_processors.hpp"

#include <map>

namespace vlm::text_detail {
namespace {

class WrappingProcessor final : public PostProcessor {
 public:
  WrappingProcessor(std::vector<int64_t> prefix, std::vector<int64_t> suffix)
      : prefix_(std::move(prefix)), suffix_(std::move(suffix)) {}
  void add_special_tokens(std::vector<int64_t>& ids) const override {
    ids.insert(ids.begin(), prefix_.begin(), prefix_.end());
    ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  }

 private:
  std::vector<int64_t> prefix_, suffix_;
};

class NoOpProcessor final : public PostProcessor {
 public:
  void add_special_tokens(std::vector<int64_t>&) const override {}
};

class SequenceProcessor final : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
  void add_special_tokens(std::vector<int64_t>& ids) const override {
    for (const auto& step : steps_) step->add_special_tokens(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

std::unique_ptr<PostProcessor> template_from_json(const JsonAt& json) {
  std::map<std::string, std::vector<int64_t>> specials;
  if (json.has("special_tokens")) {
    const auto map = json.at("special_tokens");
    if (!map.node.is_object()) fail("{}: expected an object", map.path);
    for (const auto& [name, entry] : map.node.items()) {
      const JsonAt at{entry, map.key_path(name)};
      const auto ids = at.at("ids");
      if (!ids.node.is_array()) fail("{}: expected an array of ids", ids.path);
      for (const auto& id : ids.node) {
        if (!id.is_number_integer()) fail("{}: expected integer ids", ids.path);
        specials[name].push_back(id.get<int64_t>());
      }
    }
  }
  const auto single = json.at("single");
  if (!single.node.is_array()) fail("{}: expected an array", single.path);
  std::vector<int64_t> prefix, suffix;
  bool seen_sequence = false;
  for (std::size_t i = 0; i < single.node.size(); ++i) {
    const auto item = single.at(i);
    if (item.has("Sequence")) {
      if (seen_sequence) fail("{}: the single template uses the sequence twice", item.path);
      seen_sequence = true;
    } else if (item.has("SpecialToken")) {
      const std::string name = item.at("SpecialToken").string("id");
      auto it = specials.find(name);
      if (it == specials.end()) fail("{}: special token \"{}\" is not in special_tokens", item.path, name);
      auto& target = seen_sequence ? suffix : prefix;
      target.insert(target.end(), it->second.begin(), it->second.end());
    } else {
      fail("{}: expected {{\"Sequence\": ...}} or {{\"SpecialToken\": ...}}", item.path);
    }
  }
  if (!seen_sequence) fail("{}: the single template has no $A sequence", single.path);
  return make_wrapping_processor(std::move(prefix), std::move(suffix));
}

int64_t token_id_pair(const JsonAt& json, std::string_view key) {
  const auto pair = json.at(key);
  if (!pair.node.is_array() || pair.node.size() != 2 || !pair.node[1].is_number_integer())
    fail("{}: expected [token, id]", pair.path);
  return pair.node[1].get<int64_t>();
}

}  // namespace

std::unique_ptr<PostProcessor> make_wrapping_processor(std::vector<int64_t> prefix, std::vector<int64_t> suffix) {
  return std::make_unique<WrappingProcessor>(std::move(prefix), std::move(suffix));
}

std::unique_ptr<PostProcessor> post_processor_from_json(const JsonAt& json) {
  if (json.node.is_null()) return nullptr;
  const std::string type = json.type();
  if (type == "TemplateProcessing") return template_from_json(json);
  if (type == "ByteLevel") return std::make_unique<NoOpProcessor>();  // only adjusts offsets
  if (type == "RobertaProcessing" || type == "BertProcessing")
    return make_wrapping_processor({token_id_pair(json, "cls")}, {token_id_pair(json, "sep")});
  if (type == "Sequence") {
    const auto list = json.at("processors");
    if (!list.node.is_array()) fail("{}: expected an array", list.path);
    std::vector<std::unique_ptr<PostProcessor>> steps;
    for (std::size_t i = 0; i < list.node.size(); ++i)
      if (auto step = post_processor_from_json(list.at(i))) steps.push_back(std::move(step));
    return std::make_unique<SequenceProcessor>(std::move(steps));
  }
  json.unsupported("type", type);
}

}  // namespace vlm::text_detail
