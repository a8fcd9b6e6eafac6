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

// The checks HF's GenerationConfig.validate and logits processors make. `where` prefixes the messages
// ("generation_config.json: " when the values come from the checkpoint, so the user knows which file to fix).
void validate(const GenerationConfig& c, const std::string& where) {
  if (c.max_new_tokens < 0) fail("{}max_new_tokens must be >= 0, found {}", where, c.max_new_tokens);
  if (c.min_new_tokens < 0) fail("{}min_new_tokens must be >= 0, found {}", where, c.min_new_tokens);
  if (c.temperature < 0) fail("{}temperature must be >= 0, found {}", where, c.temperature);
  if (c.top_k < 0) fail("{}top_k must be >= 0 (0 = off), found {}", where, c.top_k);
  if (c.top_p <= 0 || c.top_p > 1) fail("{}top_p must be in (0, 1], found {}", where, c.top_p);
  if (c.min_p < 0 || c.min_p > 1) fail("{}min_p must be in [0, 1], found {}", where, c.min_p);
  if (c.repetition_penalty <= 0) fail("{}repetition_penalty must be > 0, found {}", where, c.repetition_penalty);
}

// Typed reads of an override that refuse JSON of another kind. nlohmann's get<int64_t>() silently
// truncates 2.7 to 2 and turns true into 1, and get<uint64_t>() turns -1 into 2^64 - 1: a typo in a model
// YAML must not quietly change what is generated.
int64_t integer_setting(const std::string& key, const Json& v) {
  if (!v.is_number_integer()) fail("generation setting '{}': expected an integer, found {}", key, v.dump());
  return v.get<int64_t>();
}
uint64_t unsigned_setting(const std::string& key, const Json& v) {
  if (!v.is_number_unsigned())
    fail("generation setting '{}': expected a non-negative integer, found {}", key, v.dump());
  return v.get<uint64_t>();
}
double number_setting(const std::string& key, const Json& v) {
  if (!v.is_number()) fail("generation setting '{}': expected a number, found {}", key, v.dump());
  return v.get<double>();
}
bool bool_setting(const std::string& key, const Json& v) {
  if (!v.is_boolean()) fail("generation setting '{}': expected true or false, found {}", key, v.dump());
  return v.get<bool>();
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
  // Checked here too: otherwise a bad value in the file surfaces later, from apply(), worded as if the
  // user's override were at fault.
  validate(c, gen.file() + ": ");
  return c;
}

void GenerationConfig::apply(const Json& o) {
  if (!o.is_object()) fail("generation settings must be an object, found {}", o.dump());
  // Work on a copy so that a rejected override leaves *this as it was (no half-applied settings).
  GenerationConfig c = *this;
  for (auto it = o.begin(); it != o.end(); ++it) {
    const auto& key = it.key();
    const Json& v = it.value();
    try {
      if (key == "max_new_tokens") c.max_new_tokens = integer_setting(key, v);
      else if (key == "min_new_tokens") c.min_new_tokens = integer_setting(key, v);
      else if (key == "do_sample") c.do_sample = bool_setting(key, v);
      else if (key == "temperature") c.temperature = number_setting(key, v);
      else if (key == "top_k") c.top_k = integer_setting(key, v);
      else if (key == "top_p") c.top_p = number_setting(key, v);
      else if (key == "min_p") c.min_p = number_setting(key, v);
      else if (key == "repetition_penalty") c.repetition_penalty = number_setting(key, v);
      else if (key == "seed") c.seed = unsigned_setting(key, v);
      else if (key == "eos_token_id") c.eos_token_ids = id_list(v, key);
      else if (key == "pad_token_id") c.pad_token_id = integer_setting(key, v);
      else if (key == "stop_strings") c.stop_strings = v.get<std::vector<std::string>>();
      else if (key == "ignore_eos") c.ignore_eos = bool_setting(key, v);
      else fail("unknown generation setting '{}'", key);
    } catch (const Json::exception& e) {
      fail("generation setting '{}': {}", key, e.what());
    }
  }
  validate(c, "");
  *this = std::move(c);
}

}  // namespace vlm
