#pragma once
// Text tokenizer with Hugging Face semantics. `Tokenizer::load(dir)` reads a checkpoint folder:
// tokenizer.json (the "fast" pipeline: normalizer, pre-tokenizer, model, post-processor, decoder and
// added tokens) plus tokenizer_config.json / special_tokens_map.json / added_tokens.json; without a
// tokenizer.json it falls back to tokenizer.model / spiece.model through libsentencepiece, following
// the conventions of transformers' slow LlamaTokenizer / T5Tokenizer.
//
// Input text is UTF-8. Invalid byte sequences are replaced by U+FFFD (one per maximal invalid
// subsequence), exactly what Python's bytes.decode("utf-8", errors="replace") produces before a str
// reaches Hugging Face tokenizers. A loaded Tokenizer is immutable and safe to share between threads.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vlm {

namespace text_detail {
class TokenizerEngine;
}

enum class TextSide { Left, Right };

// Which files Tokenizer::load reads. Auto prefers tokenizer.json, as transformers' fast tokenizers do.
enum class TokenizerSource { Auto, TokenizerJson, SentencePiece };

struct BatchEncodeOptions {
  bool add_special_tokens = true;
  // Truncation: keep at most max_length ids per text (special tokens included), cut on truncation_side.
  std::optional<std::size_t> max_length;
  TextSide truncation_side = TextSide::Right;
  // Padding: to the longest text, or to max_length when pad_to_max_length, rounded up to a multiple of
  // pad_to_multiple_of (0 = no rounding). pad_id defaults to the tokenizer's pad token.
  bool pad = true;
  bool pad_to_max_length = false;
  std::size_t pad_to_multiple_of = 0;
  TextSide padding_side = TextSide::Right;
  std::optional<int64_t> pad_id;
};

struct BatchEncoding {
  std::vector<std::vector<int64_t>> input_ids;
  std::vector<std::vector<int64_t>> attention_mask;  // 1 for text, 0 for padding
};

// A named special token (bos/eos/...) as tokenizer_config.json declares it.
struct SpecialTokenInfo {
  std::string content;
  std::optional<int64_t> id;  // nullopt when the vocabulary does not contain it
};

class Tokenizer {
 public:
  // Reads the tokenizer files in `dir`; every problem is a vlm::Error naming the file and field.
  static std::shared_ptr<const Tokenizer> load(const std::filesystem::path& dir,
                                               TokenizerSource source = TokenizerSource::Auto);
  // The same from in-memory JSON texts (tests, embedded tokenizers). Config texts may be empty.
  static std::shared_ptr<const Tokenizer> from_json(std::string_view tokenizer_json,
                                                    std::string_view tokenizer_config_json = {});

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  std::vector<int64_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Token strings of encode(text, false) (Hugging Face's tokenize()); handy for diagnostics.
  std::vector<std::string> tokenize(std::string_view text) const;
  // Ids the tokenizer does not know (models pad their embedding rows beyond the vocabulary) decode as
  // "<id N beyond tokenizer>"; decoding never throws on ids.
  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens = false) const;
  std::vector<std::string> decode_batch(std::span<const std::vector<int64_t>> ids,
                                        bool skip_special_tokens = false) const;
  BatchEncoding encode_batch(std::span<const std::string> texts, const BatchEncodeOptions& options = {}) const;

  std::optional<int64_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(int64_t id) const;
  // Hugging Face's len(tokenizer): base vocabulary plus added tokens (highest id + 1).
  std::size_t vocab_size() const;
  // Added tokens flagged special, and the named special tokens of tokenizer_config.json.
  bool is_special(int64_t id) const;

  const std::optional<SpecialTokenInfo>& bos_token() const { return bos_; }
  const std::optional<SpecialTokenInfo>& eos_token() const { return eos_; }
  const std::optional<SpecialTokenInfo>& pad_token() const { return pad_; }
  const std::optional<SpecialTokenInfo>& unk_token() const { return unk_; }
  std::optional<int64_t> bos_id() const { return bos_ ? bos_->id : std::nullopt; }
  std::optional<int64_t> eos_id() const { return eos_ ? eos_->id : std::nullopt; }
  std::optional<int64_t> pad_id() const { return pad_ ? pad_->id : std::nullopt; }
  std::optional<int64_t> unk_id() const { return unk_ ? unk_->id : std::nullopt; }

  // tokenizer_config.json's chat_template: a string, or a list of {name, template}; the plain string is
  // stored under "default". Empty when absent (chat_template.json is read by the chat-template code).
  const std::map<std::string, std::string>& chat_templates() const { return chat_templates_; }
  std::optional<std::string> chat_template(const std::string& name = "default") const;

  bool clean_up_tokenization_spaces() const { return clean_up_tokenization_spaces_; }
  std::optional<std::size_t> model_max_length() const { return model_max_length_; }

 private:
  Tokenizer();
  friend struct TokenizerBuilder;

  std::unique_ptr<const text_detail::TokenizerEngine> engine_;
  std::optional<SpecialTokenInfo> bos_, eos_, pad_, unk_;
  std::vector<int64_t> extra_special_ids_;  // config-named specials beyond the engine's own flags
  std::map<std::string, std::string> chat_templates_;
  bool clean_up_tokenization_spaces_ = false;
  std::optional<std::size_t> model_max_length_;
};

// transformers' clean_up_tokenization: removes the space before punctuation and English contractions.
std::string clean_up_tokenization(std::string text);

}  // namespace vlm
