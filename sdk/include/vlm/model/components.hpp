#pragma once
// The five component interfaces a model family implements. The host drives them in this order:
//   Processor::prepare (uses the ImageProcessor)  ->  VisionEncoder::encode  ->  Connector::project
//   ->  Decoder::begin / prefill / step           (or Scorer::score for encoder-only families)
// Tensors passed between components are named as in the Hugging Face processor / model outputs
// (input_ids, attention_mask, pixel_values, image_grid_thw, ...), which is also how `--dump` names them.
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vlm/image/image.hpp"
#include "vlm/io/config.hpp"
#include "vlm/tensor/tensor.hpp"

namespace vlm {

using TensorMap = std::map<std::string, Tensor, std::less<>>;

// Receives intermediate tensors (for --dump and parity tests). Components call record() only when
// wants() says so, so tracing costs nothing when off.
class Trace {
 public:
  virtual ~Trace() = default;
  virtual bool wants(std::string_view name) const = 0;
  virtual void record(std::string_view name, const Tensor& tensor) = 0;  // tensor may be on a device
};

// Images -> pixel tensors plus family extras (image_grid_thw, pixel_attention_mask, aspect_ratio_ids,
// aspect_ratio_mask, ...). Host-side, deterministic, independent of the backend.
class ImageProcessor {
 public:
  virtual ~ImageProcessor() = default;
  virtual TensorMap preprocess(std::span<const Image> images, std::span<const Video> videos) const = 0;
};

// One request of a batch: an HF-style conversation (role + content string or list of
// {type: text|image|video}) rendered through the chat template, or a raw prompt used as is.
struct Prompt {
  OrderedJson messages;  // array; used when `raw` is empty
  std::string raw;       // the exact text, special tokens included
  bool add_generation_prompt = true;
  OrderedJson template_kwargs = OrderedJson::object();  // extra chat-template variables
  std::vector<Image> images;
  std::vector<Video> videos;
};

struct ModelInputs {
  TensorMap tensors;                  // input_ids [B, S] i64, attention_mask [B, S] i64, pixel tensors, ...
  std::vector<std::string> texts;     // the prompt text of each row after templating and expansion
  const Tensor& at(std::string_view name) const;
  const Tensor* find(std::string_view name) const;
};

// Chat template + tokenizer + image-token expansion -> model inputs; ids -> text.
class Processor {
 public:
  virtual ~Processor() = default;
  // Rows are left-padded to the longest (generation), with attention_mask marking real tokens.
  virtual ModelInputs prepare(std::span<const Prompt> batch) const = 0;
  virtual std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const = 0;
  // Token ids that end generation besides generation_config's eos (e.g. <|im_end|>); may be empty.
  virtual std::vector<int64_t> extra_stop_ids() const { return {}; }
};

// pixel tensors -> vision hidden states.
class VisionEncoder {
 public:
  virtual ~VisionEncoder() = default;
  virtual Tensor encode(const ModelInputs& inputs, Trace* trace) = 0;
};

// Vision hidden states -> what the decoder consumes (projector, resampler, Q-Former, patch merger).
class Connector {
 public:
  virtual ~Connector() = default;
  virtual Tensor project(const Tensor& vision_states, const ModelInputs& inputs, Trace* trace) = 0;
};

// How a decoder conditions text on images.
enum class Conditioning : uint8_t {
  MergedEmbeddings,  // image features replace image-token embeddings (Qwen2-VL, VipLlava, Idefics2, BLIP-2 OPT)
  CrossAttention,    // text layers cross-attend to image states (Mllama)
  EncoderDecoder,    // image features + prompt feed an encoder; a decoder generates (BLIP-2 Flan-T5)
};

// Per-batch generation state a decoder owns: KV caches, cross-attention states, encoder output, positions.
class DecoderState {
 public:
  virtual ~DecoderState() = default;
  virtual int64_t batch() const = 0;
  virtual int64_t length() const = 0;  // tokens processed so far per row (prompt + generated)
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual Conditioning conditioning() const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t max_context() const = 0;  // longest sequence the model supports
  // Allocates the state for inputs.tensors["input_ids"]'s batch, room for `max_total_len` tokens a row.
  virtual std::unique_ptr<DecoderState> begin(const ModelInputs& inputs, int64_t max_total_len) = 0;
  // Runs the prompt. `vision` is the connector output, or null when the prompt has no images. Returns
  // logits [B, V] (f32, host) of each row's last prompt position. Records "inputs_embeds", "logits", ...
  virtual Tensor prefill(DecoderState& state, const ModelInputs& inputs, const Tensor* vision,
                         Trace* trace) = 0;
  // Feeds one token per row; returns logits [B, V] (f32, host).
  virtual Tensor step(DecoderState& state, std::span<const int64_t> tokens, Trace* trace) = 0;
};

// Encoder-only scoring (image-text matching, contrastive retrieval, masked LM): named outputs.
class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual std::vector<std::string> tasks() const = 0;  // e.g. {"itm", "contrastive", "mlm"}
  virtual TensorMap score(std::string_view task, const ModelInputs& inputs, Trace* trace) = 0;
};

}  // namespace vlm
