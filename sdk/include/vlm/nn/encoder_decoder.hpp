#pragma once
// Encoder-decoder wiring (T5): a prompt runs once through a bidirectional encoder; the decoder, a causal
// TextModel whose layers cross-attend to the encoder's states, then generates from its start token. The
// encoder runs at admission, so sequences join and leave a session exactly as decoder-only ones do.
#include <span>
#include <vector>

#include "vlm/nn/text_session.hpp"

namespace vlm {

// A left-padded batch's encoder input embeddings [B * S, hidden] (backend; image features already merged)
// -> one PromptRows per row: the row's real positions (mask [B * S]) run through `encoder` at their padded
// column positions (T5's relative positions count padding), its final states projected to every decoder
// layer's cross-attention keys and values, and the decoder prompt `start_token`. Records
// "encoder_last_hidden_state" [B, S, hidden] (zeros at padding) when traced.
std::vector<PromptRows> encoder_decoder_prompts(Workspace& ws, const EncoderStack& encoder, const TextModel& decoder,
                                                const Tensor& embeds, std::span<const int64_t> mask, int64_t batch,
                                                int64_t start_token, Trace* trace);

}  // namespace vlm
