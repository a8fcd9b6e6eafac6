#pragma once
// Random-weight checkpoints in exact Hugging Face layout (`vlm synth`): config.json,
// generation_config.json, model.safetensors, tokenizer.json + tokenizer_config.json,
// preprocessor_config.json, chat_template.json. Weights follow the family's TensorSpecs, so the same
// declaration that validates real checkpoints defines the synthetic ones.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "vlm/model/family.hpp"

namespace vlm {

// Id of the i-th special token in a synthetic tokenizer with `merges` merges: the `leading` first ones
// take ids 0.. (RoBERTa's <s> <pad> </s> <unk>), then the 256 byte tokens, the merges and the other
// specials, in recipe order. Families use this to fill config.json token ids.
inline int64_t synthetic_special_token_id(int merges, size_t index, size_t leading = 0) {
  return index < leading ? int64_t(index) : 256 + merges + int64_t(index);
}
inline int64_t synthetic_tokenizer_size(int merges, size_t special_count) {
  return 256 + merges + int64_t(special_count);
}
// Rounds a vocabulary size up to a multiple of 64, as real checkpoints pad their embedding tables.
inline int64_t padded_vocab_size(int64_t size) { return (size + 63) / 64 * 64; }

// A byte-level BPE tokenizer.json learned from a built-in English corpus with exactly `merges` merges
// (at most 400), with `special_tokens` as added special tokens (the `leading` first ones before the bytes).
Json make_synthetic_tokenizer_json(int merges, const std::vector<std::string>& special_tokens, size_t leading = 0);

// Writes the checkpoint into `dir` (created; an existing non-empty folder is an Error unless `overwrite`).
// Tensor values depend only on (seed, tensor name), never on order.
void write_synthetic_checkpoint(const ModelFamily& family, const SynthRecipe& recipe, const std::filesystem::path& dir,
                                uint64_t seed, bool overwrite = false);

// Fills `t` (host) with values drawn for `init` from a generator seeded by (seed, name).
void fill_random(Tensor& t, Init init, const std::string& name, uint64_t seed);

}  // namespace vlm
