#pragma once
// The five component interfaces a model family implements. The host drives them in this order:
//   Processor::prepare (uses the ImageProcessor)  ->  VisionEncoder::encode  ->  Connector::project
//   ->  Decoder::open_session, DecoderSession::admit / forward   (or Scorer::score for encoder-only families)
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

// Records each of the processor's tensors that `trace` wants (trace may be null).
void record_inputs(const ModelInputs& inputs, Trace* trace);

// Chat template + tokenizer + image-token expansion -> model inputs; ids -> text.
class Processor {
 public:
  virtual ~Processor() = default;
  // Rows are left-padded to the longest (generation), with attention_mask marking real tokens.
  virtual ModelInputs prepare(std::span<const Prompt> batch) const = 0;
  virtual std::string decode(std::span<const int64_t> ids, bool skip_special_tokens) const = 0;
  // Token ids that end generation besides generation_config's eos (e.g. <|im_end|>); may be empty.
  virtual std::vector<int64_t> extra_stop_ids() const { return {}; }
  // The masked-LM placeholder (RoBERTa's <mask>), -1 when the model has none.
  virtual int64_t mask_token_id() const { return -1; }
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

using SequenceId = int64_t;

struct SessionOptions {
  int64_t max_sequences = 1;  // sequences active at once (KV-cache slots reserved up front)
  int64_t max_length = 0;     // positions per sequence, prompt + generated; 0 = the model's context
  DType kv_dtype = DType::F32;  // BF16 halves the KV cache (keys and values rounded when stored)
};

// One sequence's part of a forward: the next chunk of its prompt, or one token it generated.
struct StepInput {
  SequenceId sequence = 0;
  int64_t token = -1;          // >= 0: feed this token; -1: run the next chunk of the prompt
  int64_t prompt_tokens = 0;   // with token == -1: the chunk's size at most (0 = the rest of the prompt)
  bool all_logits = false;     // logits of every row run (scoring, tracing), not only of the last
};

// What a forward returns: per input, the rows of `logits` that belong to it. An input gets its last row's
// logits when that row predicts the next token (its prompt is complete, or it fed a token); a prompt chunk
// that leaves more of the prompt gets none, unless all_logits asked for every row. The tensors are valid
// until the session's next forward (on the CPU they may be views of its reused scratch).
struct StepOutput {
  Tensor logits;  // [rows, vocab] f32, host
  Tensor hidden;  // [rows, hidden] f32, host, after the final norm; defined when an input asked all_logits
  struct Rows {
    int64_t first = 0, count = 0;
  };
  std::vector<Rows> rows;  // one per input, in input order
};

// Everything mutable about running a decoder: KV cache, scratch buffers and each sequence's state. A
// loaded model is shared; each thread or front end opens its own session. Sequences join (admit) and
// leave (release) between forwards, each at its own length.
class DecoderSession {
 public:
  virtual ~DecoderSession() = default;
  // Admits every row of a prepared batch as a new sequence, its padding dropped. `vision` is the
  // connector output for the batch's images, or null. Runs no layer: later forwards consume the prompt.
  // Records "inputs_embeds" (the padded batch) when traced.
  virtual std::vector<SequenceId> admit(const ModelInputs& inputs, const Tensor* vision, Trace* trace) = 0;
  virtual int64_t prompt_remaining(SequenceId sequence) const = 0;  // prompt rows not run yet
  virtual int64_t length(SequenceId sequence) const = 0;            // positions run so far
  // One forward over every input (a batch of sequences at different lengths); see StepOutput. The result
  // is the session's own, reused by the next forward (a step allocates nothing for it).
  virtual StepOutput& forward(std::span<const StepInput> inputs) = 0;
  // Ends a sequence; its cache slot is free for the next one.
  virtual void release(SequenceId sequence) = 0;
  virtual int64_t active() const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual Conditioning conditioning() const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t max_context() const = 0;  // longest sequence the model supports
  // Encoder-decoder models: the decoder's first input (decoder_start_token_id), which generation's
  // history and results start from; -1 for decoder-only models.
  virtual int64_t start_token() const { return -1; }
  virtual std::unique_ptr<DecoderSession> open_session(const SessionOptions& options) const = 0;
};

// One image or one text encoded for retrieval, kept for every pair it is in. Opaque to the host: the
// family keeps whatever its pair scoring needs (uni-modal states, projected inputs, an embedding).
class Encoding {
 public:
  virtual ~Encoding() = default;
  // The L2-normalised embedding ([E] f32, host) when the method compares embeddings (a dual encoder's
  // similarity); undefined when pairs are scored jointly.
  virtual Tensor embedding() const { return {}; }
};

// Encoder-only scoring (image-text matching, contrastive retrieval, masked LM): named outputs.
class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual std::vector<std::string> tasks() const = 0;  // e.g. {"itm", "contrastive", "mlm"}
  virtual TensorMap score(std::string_view task, const ModelInputs& inputs, Trace* trace) = 0;

  // Retrieval in stages (`vlm retrieve`): every image and every text is encoded once, then pairs are
  // scored from the two encodings, in batches. `method` is one of retrieval_methods(), e.g. "itm" (a joint
  // forward per pair) or "itc" (similarity of separately computed embeddings). The defaults: no retrieval.
  virtual std::vector<std::string> retrieval_methods() const { return {}; }
  virtual std::vector<std::unique_ptr<Encoding>> encode_images(std::string_view method, std::span<const Image> images);
  virtual std::vector<std::unique_ptr<Encoding>> encode_texts(std::string_view method,
                                                               std::span<const std::string> texts);
  // Scores [P] f32 of the pairs (images[p], texts[p]), higher for a better match, equal to what score()
  // gives the same pair (itm: the match probability; itc: the scaled text-to-image similarity).
  virtual Tensor score_pairs(std::string_view method, std::span<const Encoding* const> images,
                             std::span<const Encoding* const> texts);
};

}  // namespace vlm
