// Encoding and decoding with the real tokenizers of ../shared/reference/tokenizers (byte-level BPE,
// SentencePiece-style BPE, Unigram, WordPiece-free RoBERTa/OPT, Llama 3's tiktoken-style BPE). The first
// byte picks the tokenizer; the rest is the text. The ids that come back, and the input bytes read as ids,
// are decoded again.
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_support.hpp"
#include "vlm/text/tokenizer.hpp"

namespace {
std::vector<std::shared_ptr<const vlm::Tokenizer>> tokenizers;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const auto root = vlm::fuzz::shared_dir() / "reference" / "tokenizers";
  for (const char* name : {"qwen2_vl", "idefics2", "t5", "roberta_base", "opt", "vipllava", "mllama"})
    tokenizers.push_back(vlm::Tokenizer::load(root / name));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const vlm::Tokenizer& tokenizer = *tokenizers[data[0] % tokenizers.size()];
  const std::string_view text = vlm::fuzz::as_text(data + 1, size - 1);
  vlm::fuzz::expect_errors([&] {  // text that is not UTF-8 is an Error
    const std::vector<int64_t> ids = tokenizer.encode(text, data[0] & 0x80);
    (void)tokenizer.decode(ids, false);
    (void)tokenizer.decode(ids, true);
    (void)tokenizer.tokenize(text);
  });
  std::vector<int64_t> raw((size - 1) / sizeof(int32_t));
  for (size_t i = 0; i < raw.size(); ++i) {
    int32_t id;
    std::memcpy(&id, data + 1 + i * sizeof id, sizeof id);
    raw[i] = id;
  }
  (void)tokenizer.decode(raw, data[0] & 0x40);
  return 0;
}
