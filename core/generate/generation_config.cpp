#include "vlm/generate/generation_config.hpp"

#include "vlm/util/error.hpp"

namespace vlm {

namespace {

std::vector<int64_t> id_list(const Json& value, const std::string& where) {
  if (value.is_number_integer()) return {value.get<int64_t>()};
  if (value.is_array()) {
    std::vector<int64_t> ids;
    for (const auto& v : value) {
      if (!v.is_number_integer()) fail("{}: expected token ids, found {}", where, value.dump());
      ids.push_back(v.get<int64_t>());
    }
    return ids;
  }
  if (value.is_null()) return {};
  fail("{}: expected a token id or a list of ids, found {}", where, value.dump());
}

}  // namespace

GenerationConfig GenerationConfig::from_checkpoint(const ConfigView& gen, const ConfigView& model) {
  GenerationConfig c;
  c.max_new_tokens = gen.get_or<int64_t>("max_new_tokens", 128);  // HF's max_length=20 default surprises users
  c.min_new_tokens = gen.get_or<int64_t>("min_new_tokens", 0);
  c.do_sample = gen.get_or("do_sample", false);
  c.temperature = gen.get_or("temperature", 1.0);
  c.top_k = gen.get_or<int64_t>("top_k", 50);
  c.top_p = gen.get_or("top_p", 1.0);
  c.min_p = gen.get_or("min_p", 0.0);
  c.repetition_penalty = gen.get_or("repetition_penalty", 1.0);
  if (gen.has("eos_token_id"))
    c.eos_token_ids = id_list(gen.json()["eos_token_id"], gen.where("eos_token_id"));
  else if (model.has("eos_token_id"))
    c.eos_token_ids = id_list(model.json()["eos_token_id"], model.where("eos_token_id"));
  if (gen.has("pad_token_id"))
    c.pad_token_id = gen.get<int64_t>("pad_token_id");
  else if (model.has("pad_token_id"))
    c.pad_token_id = model.get<int64_t>("pad_token_id");
  return c;
}

void GenerationConfig::apply(const Json& o) {
  if (!o.is_object()) fail("generation settings must be an object, found {}", o.dump());
  for (auto it = o.begin(); it != o.end(); ++it) {
    const auto& key = it.key();
    const Json& v = it.value();
    try {
      if (key == "max_new_tokens") max_new_tokens = v.get<int64_t>();
      else if (key == "min_new_tokens") min_new_tokens = v.get<int64_t>();
      else if (key == "do_sample") do_sample = v.get<bool>();
      else if (key == "temperature") temperature = v.get<double>();
      else if (key == "top_k") top_k = v.get<int64_t>();
      else if (key == "top_p") top_p = v.get<double>();
      else if (key == "min_p") min_p = v.get<double>();
      else if (key == "repetition_penalty") repetition_penalty = v.get<double>();
      else if (key == "seed") seed = v.get<uint64_t>();
      else if (key == "eos_token_id") eos_token_ids = id_list(v, key);
      else if (key == "pad_token_id") pad_token_id = v.get<int64_t>();
      else if (key == "stop_strings") stop_strings = v.get<std::vector<std::string>>();
      else if (key == "ignore_eos") ignore_eos = v.get<bool>();
      else fail("unknown generation setting '{}'", key);
    } catch (const Json::exception& e) {
      fail("generation setting '{}': {}", key, e.what());
    }
  }
  if (max_new_tokens < 0) fail("max_new_tokens must be >= 0, found {}", max_new_tokens);
  if (temperature < 0) fail("temperature must be >= 0, found {}", temperature);
  if (top_p <= 0 || top_p > 1) fail("top_p must be in (0, 1], found {}", top_p);
  if (min_p < 0 || min_p > 1) fail("min_p must be in [0, 1], found {}", min_p);
  if (repetition_penalty <= 0) fail("repetition_penalty must be > 0, found {}", repetition_penalty);
}

}  // namespace vlm
