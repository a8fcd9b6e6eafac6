#include "sentencepiece_engine.hpp"

#include "vlm/util/error.hpp"

namespace vlm::text_detail {

std::unique_ptr<TokenizerEngine> make_sentencepiece_engine(const std::filesystem::path& model_file,
                                                           const TokenizerConfig&) {
  fail("{}: SentencePiece fallback not implemented yet", model_file.string());
}

}  // namespace vlm::text_detail
