#pragma once
// The SDK ABI version. Bump it whenever a struct or virtual interface in sdk/include changes in a way an
// already-built plugin would misread. The loader refuses plugins and backends built for another value.
#define VLM_SDK_ABI_VERSION 3u  // 3: Decoder::start_token, Model::features_per_image, block configs (T5, gates)
                                // 2: decoder sessions (Decoder::open_session), AttentionParams::window, bf16 K/V
#define VLM_VERSION_STRING "0.1.0"
