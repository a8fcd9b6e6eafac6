// transformers' PreTrainedTokenizerBase.clean_up_tokenization.
#include <array>
#include <string_view>
#include <utility>

#include "vlm/text/tokenizer.hpp"

namespace vlm {

static void replace_all(std::string& text, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t prev = 0;
  for (std::size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, prev)) {
    out.append(text, prev, pos - prev);
    out.append(to);
    prev = pos + from.size();
  }
  if (prev == 0) return;
  out.append(text, prev);
  text = std::move(out);
}

std::string clean_up_tokenization(std::string text) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kRules = {{
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  }};
  for (const auto& [from, to] : kRules) replace_all(text, from, to);
  return text;
}

}  // namespace vlm
