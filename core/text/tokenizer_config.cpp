#include "tokenizer_config.hpp"

#include <fstream>
#include <sstream>

#include "json_fields.hpp"

namespace vlm::text_detail {

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

namespace {

constexpr std::string_view kNamedSpecials[] = {"bos_token", "eos_token", "unk_token", "pad_token",
                                               "sep_token", "cls_token", "mask_token"};

Json parse_json(std::string_view text, std::string_view file) {
  if (text.empty()) return Json::object();
  check_json_depth(text, file);
  try {
    Json j = Json::parse(text);
    if (!j.is_object()) fail("{}: expected a JSON object", file);
    return j;
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    fail("{}: {}", file, e.what());
  }
}

// A token given as "text" or as {"content": ..., "lstrip": ..., ...} (transformers' AddedToken).
std::optional<AddedToken> token_spec(const JsonAt& at, bool special) {
  if (at.node.is_null()) return std::nullopt;
  AddedToken t;
  t.special = special;
  if (at.node.is_string()) {
    t.content = at.node.get<std::string>();
    t.normalized = !special;
    return t;
  }
  if (!at.node.is_object()) fail("{}: expected a string or an AddedToken object", at.path);
  t.content = at.string("content");
  t.single_word = at.boolean("single_word", false);
  t.lstrip = at.boolean("lstrip", false);
  t.rstrip = at.boolean("rstrip", false);
  t.special = at.boolean("special", special);
  t.normalized = at.boolean("normalized", !t.special);
  return t;
}

void read_specials(const JsonAt& json, TokenizerConfig& config) {
  for (auto key : kNamedSpecials)
    if (json.has(key)) {
      if (auto t = token_spec(json.at(key), true)) config.named_specials[std::string(key)] = *t;
    } else if (json.node.contains(std::string(key))) {
      config.named_specials.erase(std::string(key));  // explicitly null
    }
  if (json.has("additional_special_tokens")) {
    const auto list = json.at("additional_special_tokens");
    if (!list.node.is_array()) fail("{}: expected an array", list.path);
    config.additional_specials.clear();
    for (std::size_t i = 0; i < list.node.size(); ++i)
      if (auto t = token_spec(list.at(i), true)) config.additional_specials.push_back(*t);
  }
}

}  // namespace

TokenizerConfig parse_tokenizer_config(std::string_view config_text, std::string_view special_tokens_map_text,
                                       std::string_view added_tokens_text) {
  TokenizerConfig config;
  const Json root = parse_json(config_text, "tokenizer_config.json");
  const JsonAt json{root, "tokenizer_config.json"};
  read_specials(json, config);

  if (json.has("added_tokens_decoder")) {
    const auto map = json.at("added_tokens_decoder");
    if (!map.node.is_object()) fail("{}: expected an object", map.path);
    for (const auto& [key, value] : map.node.items()) {
      auto t = token_spec({value, map.key_path(key)}, false);
      if (!t) continue;
      try {
        t->id = std::stoi(key);
      } catch (const std::exception&) {
        fail("{}: \"{}\" is not an integer id", map.path, key);
      }
      config.added_tokens_decoder.push_back(*t);
    }
  }
  auto optional_bool = [&](std::string_view key) -> std::optional<bool> {
    if (!json.has(key)) return std::nullopt;
    return json.boolean(key, false);
  };
  config.add_bos_token = optional_bool("add_bos_token");
  config.add_eos_token = optional_bool("add_eos_token");
  config.add_prefix_space = optional_bool("add_prefix_space");
  config.legacy = optional_bool("legacy");
  config.clean_up_tokenization_spaces = optional_bool("clean_up_tokenization_spaces");
  config.split_special_tokens = json.boolean("split_special_tokens", false);
  config.spaces_between_special_tokens = json.boolean("spaces_between_special_tokens", true);
  config.tokenizer_class = json.optional_string("tokenizer_class").value_or("");
  if (json.has("model_max_length")) {
    const auto& v = root["model_max_length"];
    // transformers writes 1e30 for "no limit"; only a plausible integer is kept.
    if (v.is_number_integer() && v.get<int64_t>() > 0) config.model_max_length = std::size_t(v.get<int64_t>());
  }
  if (json.has("chat_template")) {
    const auto t = json.at("chat_template");
    if (t.node.is_string()) {
      config.chat_templates["default"] = t.node.get<std::string>();
    } else if (t.node.is_array()) {
      for (std::size_t i = 0; i < t.node.size(); ++i) {
        const auto entry = t.at(i);
        config.chat_templates[entry.string("name")] = entry.string("template");
      }
    } else {
      fail("{}: expected a string or a list of {{name, template}}", t.path);
    }
  }

  // special_tokens_map.json overrides the config's named tokens, as transformers loads it last.
  const Json map_root = parse_json(special_tokens_map_text, "special_tokens_map.json");
  read_specials({map_root, "special_tokens_map.json"}, config);

  const Json added_root = parse_json(added_tokens_text, "added_tokens.json");
  for (const auto& [content, id] : added_root.items()) {
    if (!id.is_number_integer()) fail("added_tokens.json: \"{}\": expected an integer id", content);
    config.added_tokens_json[content] = id.get<int32_t>();
  }
  return config;
}

TokenizerConfig read_tokenizer_config(const std::filesystem::path& dir) {
  auto read_if_present = [&](const char* name) {
    const auto path = dir / name;
    return std::filesystem::exists(path) ? read_text_file(path) : std::string();
  };
  try {
    return parse_tokenizer_config(read_if_present("tokenizer_config.json"), read_if_present("special_tokens_map.json"),
                                  read_if_present("added_tokens.json"));
  } catch (const Error& e) {
    fail("{}: {}", dir.string(), e.what());
  }
}

}  // namespace vlm::text_detail
