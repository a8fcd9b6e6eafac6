#pragma once
// Fallback when a checkpoint ships only tokenizer.model / spiece.model: libsentencepiece driven with
// the conventions of transformers' slow tokenizers (LlamaTokenizer, T5Tokenizer).
#include <filesystem>
#include <memory>

#include "engine.hpp"
#include "tokenizer_config.hpp"

namespace vlm::text_detail {

std::unique_ptr<TokenizerEngine> make_sentencepiece_engine(const std::filesystem::path& model_file,
                                                           const TokenizerConfig& config);

}  // namespace vlm::text_detail
