#pragma once
// The SDK ABI version. Bump it whenever a struct or virtual interface in sdk/include changes in a way an
// already-built plugin would misread. The loader refuses plugins and backends built for another value.
#define VLM_SDK_ABI_VERSION 8u  // 8: BackendOptions::memory_budget_bytes (MemoryBudget)
                                // 7: quantised dtypes Q8 / Q4, LoadOptions::quantization, LoadContext::quantized, WeightLoader quantised matrices
                                // 6: Backend::report
                                // 5: Scorer retrieval stages (Encoding, encode_images / encode_texts / score_pairs), GenerationConfig::logprobs, ChatTemplate::render strict_undefined
                                // 4: SynthRecipe tokenizer layout, ClipVisionNames, Linear separators; 3: Decoder::start_token, Model::features_per_image, block configs
                                // 2: decoder sessions (Decoder::open_session), AttentionParams::window, bf16 K/V
#define VLM_VERSION_STRING "0.1.0"
