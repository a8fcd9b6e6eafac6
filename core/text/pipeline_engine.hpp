#pragma once
// The Hugging Face tokenizer.json pipeline: added-token extraction, normalizer, pre-tokenizer, model,
// post-processor on encode; decoder on decode.
#include <memory>
#include <string_view>

#include "engine.hpp"
#include "tokenizer_config.hpp"

namespace vlm::text_detail {

std::unique_ptr<TokenizerEngine> make_pipeline_engine(std::string_view tokenizer_json, const TokenizerConfig& config);

}  // namespace vlm::text_detail
