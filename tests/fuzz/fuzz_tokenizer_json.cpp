// tokenizer.json loading (every model, normalizer, pre-tokenizer, post-processor and decoder kind), then
// a round trip through whatever loaded: the pipeline a checkpoint's tokenizer.json builds must encode and
// decode without faults.
#include "fuzz_support.hpp"
#include "vlm/io/config.hpp"
#include "vlm/text/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = vlm::fuzz::as_text(data, size);
  vlm::fuzz::expect_errors([&] {
    vlm::check_json_depth(text, "tokenizer.json");
    const auto tokenizer = vlm::Tokenizer::from_json(text);
    for (const char* sample : {"Hello world! <image> 12 345 \xc3\xa9t\xc3\xa9  \n\t", "", "    a", "\xe4\xbd\xa0\xe5\xa5\xbd"}) {
      const std::vector<int64_t> ids = tokenizer->encode(sample);
      (void)tokenizer->decode(ids);
      (void)tokenizer->decode(ids, true);
      (void)tokenizer->tokenize(sample);
    }
    const int64_t ids[] = {0, 1, 2, 3, -1, 1 << 30, int64_t(tokenizer->vocab_size()) - 1};
    (void)tokenizer->decode(ids);
  });
  return 0;
}
