#pragma once
// Pieces every family's Processor is made of: rendering a Prompt through the checkpoint's chat template,
// expanding one media placeholder into as many tokens as the media produces, and left-padding a batch.
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vlm/model/components.hpp"
#include "vlm/text/chat_template.hpp"
#include "vlm/text/tokenizer.hpp"

namespace vlm {

class PromptRenderer {
 public:
  // Finds the checkpoint's chat template (an Error only when it is malformed; a checkpoint without one can
  // still serve raw prompts) and its tokenizer_config.json special tokens.
  explicit PromptRenderer(const std::filesystem::path& checkpoint_dir);
  bool has_template() const { return template_ != nullptr; }
  // The prompt text: prompt.raw as is, or prompt.messages rendered with add_generation_prompt and kwargs.
  std::string render(const Prompt& prompt) const;

 private:
  std::shared_ptr<const ChatTemplate> template_;
  OrderedJson tokenizer_config_ = OrderedJson::object();
  std::string checkpoint_;
};

// Replaces each occurrence of `placeholder` in `text`, in order, by `replacement` repeated counts[next++]
// times. Errors when the text has more placeholders than counts remain.
std::string expand_placeholders(std::string_view text, std::string_view placeholder, std::string_view replacement,
                                std::span<const int64_t> counts, size_t& next, std::string_view what);
size_t count_occurrences(std::string_view text, std::string_view needle);

// Checks that prompt `index` (of `batch_size`) has as many `placeholder`s as media `given`. Checked per
// prompt, not over the batch: expansion hands out the batch's media in order, so matching totals with
// mismatched prompts would silently move one prompt's image into another's placeholder.
void check_placeholders(std::string_view text, std::string_view placeholder, size_t given, std::string_view what,
                        size_t index, size_t batch_size);

// The id left padding uses: the tokenizer's pad token, else its eos, else 0.
int64_t padding_id(const Tokenizer& tokenizer);

// Left-pads rows of ids to the longest (padding takes `pad_id`, mask 0) into input_ids / attention_mask
// [batch, length] i64.
void pad_left(const std::vector<std::vector<int64_t>>& rows, int64_t pad_id, ModelInputs& inputs);
// Families that pair exactly one image with one text per prompt (BLIP-2, BridgeTower): each prompt's image,
// and its text rendered by `renderer` and tokenized with the tokenizer's special tokens; the texts go to
// inputs.texts. An Error names the prompt that has another number of images, or a video.
struct ImageTextBatch {
  std::vector<Image> images;
  std::vector<std::vector<int64_t>> ids;
};
ImageTextBatch one_image_per_prompt(std::span<const Prompt> batch, const PromptRenderer& renderer,
                                    const Tokenizer& tokenizer, std::string_view family, ModelInputs& inputs);

// The same padded on the right (encoders and scorers: BERT-style tokenizers pad right).
void pad_right(const std::vector<std::vector<int64_t>>& rows, int64_t pad_id, ModelInputs& inputs);

}  // namespace vlm
