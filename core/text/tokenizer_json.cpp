#include "tokenizer_json.hpp"

#include "vlm/util/error.hpp"

namespace vlm::text_detail {
namespace {

// Builds the DOM like nlohmann's own SAX DOM parser, except inside model.vocab / model.merges.
class TokenizerJsonSax : public nlohmann::json_sax<Json> {
 public:
  TokenizerJsonSax(TokenizerJson& out, std::string_view file) : out_(out), file_(file) {}

  bool null() override { return value(Json(nullptr)); }
  bool boolean(bool v) override { return value(Json(v)); }
  bool number_integer(number_integer_t v) override {
    if (mode_ != Mode::Dom) return table_number(double(v), true, v);
    return value(Json(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (mode_ != Mode::Dom) return table_number(double(v), true, int64_t(v));
    return value(Json(v));
  }
  bool number_float(number_float_t v, const string_t&) override {
    if (mode_ != Mode::Dom) return table_number(v, false, 0);
    return value(Json(v));
  }
  bool string(string_t& v) override {
    if (mode_ != Mode::Dom) return table_string(v);
    return value(Json(std::move(v)));
  }
  bool binary(binary_t&) override { return bad("binary values are not JSON"); }

  bool start_object(std::size_t) override {
    if (mode_ != Mode::Dom) {
      if (mode_ == Mode::Merges || mode_ == Mode::VocabList) return bad("unexpected object");
      return bad("vocab entries must be token: id");
    }
    if (at_model_member("vocab")) {
      mode_ = Mode::VocabMap;
      out_.tables.vocab_kind = ModelTables::VocabKind::Map;
      return true;
    }
    return open(Json::object());
  }
  bool key(string_t& k) override {
    if (mode_ == Mode::VocabMap) {
      pending_token_ = std::move(k);
      return true;
    }
    if (mode_ != Mode::Dom) return bad("unexpected key");
    keys_.back() = std::move(k);
    return true;
  }
  bool end_object() override {
    if (mode_ == Mode::VocabMap) {
      mode_ = Mode::Dom;
      return true;
    }
    return close();
  }
  bool start_array(std::size_t) override {
    switch (mode_) {
      case Mode::Merges:
        if (inner_open_) return bad("merges entries must be \"left right\" or [left, right]");
        inner_open_ = true;
        inner_strings_.clear();
        return true;
      case Mode::VocabList:
        if (inner_open_) return bad("vocab entries must be [piece, score]");
        inner_open_ = true;
        inner_strings_.clear();
        inner_score_.reset();
        return true;
      case Mode::VocabMap:
        return bad("vocab entries must be token: id");
      case Mode::Dom:
        break;
    }
    if (at_model_member("vocab")) {
      mode_ = Mode::VocabList;
      out_.tables.vocab_kind = ModelTables::VocabKind::List;
      return true;
    }
    if (at_model_member("merges")) {
      mode_ = Mode::Merges;
      out_.tables.has_merges = true;
      return true;
    }
    return open(Json::array());
  }
  bool end_array() override {
    if (mode_ == Mode::Merges || mode_ == Mode::VocabList) {
      if (!inner_open_) {
        mode_ = Mode::Dom;
        return true;
      }
      inner_open_ = false;
      if (mode_ == Mode::Merges) {
        if (inner_strings_.size() != 2) return bad("merges entries must be [left, right]");
        out_.tables.merges.push_back({std::move(inner_strings_[0]), std::move(inner_strings_[1]), false});
      } else {
        if (inner_strings_.size() != 1 || !inner_score_) return bad("vocab entries must be [piece, score]");
        out_.tables.vocab_list.emplace_back(std::move(inner_strings_[0]), *inner_score_);
      }
      return true;
    }
    return close();
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    error_ = fmt::format("{}: invalid JSON at byte {}: {}", file_, position, e.what());
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  enum class Mode { Dom, VocabMap, VocabList, Merges };

  // True when the next value is member `name` of the top-level "model" object.
  bool at_model_member(std::string_view name) const {
    return stack_.size() == 2 && keys_[0] == "model" && keys_[1] == name && stack_[1]->is_object();
  }
  bool value(Json v) {
    if (mode_ != Mode::Dom) return bad("unexpected value");
    insert(std::move(v));
    return true;
  }
  Json* insert(Json v) {
    if (stack_.empty()) {
      out_.root = std::move(v);
      return &out_.root;
    }
    Json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    Json& slot = parent[keys_.back()];
    slot = std::move(v);
    return &slot;
  }
  bool open(Json container) {
    Json* node = insert(std::move(container));
    stack_.push_back(node);
    keys_.emplace_back();
    return true;
  }
  bool close() {
    stack_.pop_back();
    keys_.pop_back();
    return true;
  }
  bool table_string(std::string& v) {
    switch (mode_) {
      case Mode::Merges:
        if (!inner_open_) {
          out_.tables.merges.push_back({std::move(v), {}, true});
          return true;
        }
        inner_strings_.push_back(std::move(v));
        return true;
      case Mode::VocabList:
        if (!inner_open_) return bad("vocab entries must be [piece, score]");
        inner_strings_.push_back(std::move(v));
        return true;
      default:
        return bad("vocab ids must be integers");
    }
  }
  bool table_number(double as_double, bool is_integer, int64_t as_integer) {
    switch (mode_) {
      case Mode::VocabMap:
        if (!is_integer) return bad("vocab ids must be integers");
        out_.tables.vocab_map.emplace_back(std::move(pending_token_), as_integer);
        return true;
      case Mode::VocabList:
        if (!inner_open_ || inner_score_) return bad("vocab entries must be [piece, score]");
        inner_score_ = as_double;
        return true;
      default:
        return bad("merges entries must be strings");
    }
  }
  bool bad(std::string_view what) {
    const char* where = mode_ == Mode::Merges ? "model.merges" : mode_ == Mode::Dom ? "" : "model.vocab";
    error_ = fmt::format("{}: {}{}{}", file_, where, *where ? ": " : "", what);
    return false;
  }

  TokenizerJson& out_;
  std::string file_;
  std::vector<Json*> stack_;
  std::vector<std::string> keys_;
  Mode mode_ = Mode::Dom;
  std::string pending_token_;
  bool inner_open_ = false;
  std::vector<std::string> inner_strings_;
  std::optional<double> inner_score_;
  std::string error_;
};

}  // namespace

TokenizerJson parse_tokenizer_json(std::string_view text, std::string_view file) {
  TokenizerJson out;
  check_json_depth(text, file);
  TokenizerJsonSax sax(out, file);
  const bool ok = Json::sax_parse(text.begin(), text.end(), &sax);
  if (!ok) fail("{}", sax.error().empty() ? std::string(file) + ": invalid JSON" : sax.error());
  if (!out.root.is_object()) fail("{}: expected a JSON object", file);
  return out;
}

}  // namespace vlm::text_detail
