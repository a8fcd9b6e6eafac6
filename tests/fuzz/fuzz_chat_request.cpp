// `vlm serve`'s request body: JSON to a ChatRequest (messages, images as data: URIs, sampling settings),
// as the server parses it before anything is queued. Local files and remote URLs are not allowed, as by
// default.
#include "fuzz_support.hpp"
#include "serve/openai.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(vlm::fuzz::as_text(data, size));
  vlm::GenerationConfig defaults;
  defaults.max_new_tokens = 16;
  vlm::host::serve::ImagePolicy policy;
  policy.max_image_bytes = 1 << 20;
  try {
    (void)vlm::host::serve::parse_chat_request(body, defaults, policy);
  } catch (const vlm::host::serve::ApiError&) {  // the 4xx the server answers
  } catch (const vlm::Error&) {
  }
  return 0;
}
