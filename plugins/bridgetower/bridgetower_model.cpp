#include "bridgetower_model.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "vlm/util/error.hpp"

namespace vlm::bridgetower {

namespace {

const std::string kBase = "bridgetower";
const std::string kText = kBase + ".text_model";
const std::string kVision = kBase + ".vision_model.visual";

ClipVisionNames vision_names() {  // the OpenAI-CLIP layout of BridgeTower's `visual`
  ClipVisionNames n;
  n.pre_norm = "ln_pre";
  n.layers = "transformer.resblocks";
  n.post_norm = "ln_post";
  n.fused_qkv = true;
  n.block.norm1 = "ln_1";
  n.block.norm2 = "ln_2";
  n.block.qkv = "attn.in_proj";
  n.block.qkv_separator = "_";
  n.block.out = "attn.out_proj";
  n.block.fc1 = "mlp.c_fc";
  n.block.fc2 = "mlp.c_proj";
  return n;
}

EncoderLayerConfig cross_layer(const Config& c) {  // BridgeTowerBertCrossLayer(text_config)
  EncoderLayerConfig l = c.text.layer();
  l.cross_width = c.hidden_size;
  return l;
}

std::string layer_name(const std::string& list, int64_t i) { return list + "." + std::to_string(i); }

// The rows of one stream: packed [T, H] tokens of B sequences of `lengths`, scattered to a padded host
// [B, width, H] with zeros at padding (the layout HF's traces have).
Tensor padded(Backend& be, const Tensor& packed, std::span<const int64_t> lengths, int64_t width) {
  const Tensor host = be.download(packed).to(DType::F32);
  const int64_t H = host.dim(host.rank() - 1), B = int64_t(lengths.size());
  Tensor out = Tensor::zeros(Shape{B, width, H}, DType::F32);
  int64_t row = 0;
  for (int64_t b = 0; b < B; ++b) {
    std::copy_n(host.data<float>() + row * H, lengths[size_t(b)] * H, out.data<float>() + b * width * H);
    row += lengths[size_t(b)];
  }
  return out;
}

// Stacks same-shaped host tensors along a new first axis.
Tensor stack(const std::vector<Tensor>& parts) {
  std::vector<int64_t> dims{int64_t(parts.size())};
  for (int64_t d = 0; d < parts[0].rank(); ++d) dims.push_back(parts[0].dim(d));
  Tensor out = Tensor::zeros(Shape(dims), DType::F32);
  const int64_t n = parts[0].numel();
  for (size_t i = 0; i < parts.size(); ++i) std::copy_n(parts[i].data<float>(), n, out.data<float>() + int64_t(i) * n);
  return out;
}

// The first row of each sequence (CLS): [B, H] from packed [T, H].
Tensor first_rows(Backend& be, Workspace& ws, const std::string& slot, const Tensor& packed,
                  std::span<const int64_t> lengths) {
  const int64_t H = packed.dim(1);
  Tensor out = ws.get(slot, Shape{int64_t(lengths.size()), H});
  int64_t row = 0;
  for (size_t b = 0; b < lengths.size(); ++b) {
    Tensor dst = out.rows(int64_t(b), 1);
    be.copy(packed.rows(row, 1), dst);
    row += lengths[b];
  }
  return out;
}

void l2_normalise_rows(Tensor& t) {  // F.normalize(p=2, dim=-1, eps=1e-12), on the host
  const int64_t rows = t.dim(0), cols = t.dim(1);
  float* p = t.data<float>();
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += double(p[r * cols + c]) * p[r * cols + c];
    const float norm = std::max(float(std::sqrt(sum)), 1e-12f);
    for (int64_t c = 0; c < cols; ++c) p[r * cols + c] /= norm;
  }
}

// a [n, d] x b [m, d]^T * scale on the host.
Tensor similarity(const Tensor& a, const Tensor& b, float scale) {
  const int64_t n = a.dim(0), m = b.dim(0), d = a.dim(1);
  Tensor out = Tensor::zeros(Shape{n, m}, DType::F32);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      float dot = 0;
      for (int64_t k = 0; k < d; ++k) dot += a.data<float>()[i * d + k] * b.data<float>()[j * d + k];
      out.data<float>()[i * m + j] = dot * scale;
    }
  return out;
}

// Cross-entropy of square logits [B, B] with row i's label i, averaged over rows (F.cross_entropy).
double diagonal_cross_entropy(const Tensor& logits) {
  const int64_t B = logits.dim(0);
  double total = 0;
  for (int64_t i = 0; i < B; ++i) {
    const float* row = logits.data<float>() + i * B;
    const float top = *std::max_element(row, row + B);
    double sum = 0;
    for (int64_t j = 0; j < B; ++j) sum += std::exp(double(row[j]) - top);
    total += std::log(sum) + top - row[i];
  }
  return total / double(B);
}

// softmax(itm logits)[1], as ITM's match probability.
float match_probability(const float* logits) { return 1.0f / (1.0f + std::exp(logits[0] - logits[1])); }

bool wants(Trace* trace, std::string_view name) { return trace && trace->wants(name); }

void record(Trace* trace, std::string_view name, const Tensor& t) {
  if (wants(trace, name)) trace->record(name, t);
}

}  // namespace

Model::Model(const LoadContext& context)
    : config_(Config::from(context.checkpoint->config())),
      backend_(context.backend),
      workspaces_(std::make_shared<WorkspacePool>(*context.backend)) {
  const Checkpoint& checkpoint = *context.checkpoint;
  const auto& c = config_;
  const WeightLoader w = weight_loader(context);
  if (!context.options.processor_overrides.is_null() && !context.options.processor_overrides.empty())
    fail("bridgetower: the image processor takes no overrides (got {})", context.options.processor_overrides.dump());
  processor_ = std::make_unique<Processor>(checkpoint);
  const int64_t crop = processor_->image_processor().config().crop;
  if (crop != c.vision.image_size)
    fail("{}: images are cropped to {} pixels but the vision tower's learned positions are for {} (vision_config "
         "image_size)",
         (checkpoint.dir() / "preprocessor_config.json").string(), crop, c.vision.image_size);

  text_embeddings_ = TextEmbeddings::load(w, kText + ".embeddings", c.text.embeddings());
  for (int64_t i = 0; i < c.text.num_hidden_layers; ++i)
    text_layers_.push_back(EncoderLayer::load(w, layer_name(kText + ".encoder.layer", i), c.text.layer()));
  vision_ = ClipVisionTower::load(w, kVision, c.vision.clip(), vision_names());
  const int64_t H = c.hidden_size;
  text_transform_ = Linear::load(w, kBase + ".cross_modal_text_transform", H, H, true);
  image_transform_ = Linear::load(w, kBase + ".cross_modal_image_transform", H, H, true);
  token_types_ = w.load_f32(kBase + ".token_type_embeddings.weight", Shape{2, H});
  const float eps = float(c.layer_norm_eps);
  text_norm_ = Norm::layer(w, kBase + ".cross_modal_text_layernorm", H, eps);
  image_norm_ = Norm::layer(w, kBase + ".cross_modal_image_layernorm", H, eps);
  for (int64_t i = 0; i + 1 < c.num_hidden_layers; ++i) {
    for (auto [list, links] : {std::pair{".cross_modal_text_link_tower", &text_links_},
                               std::pair{".cross_modal_image_link_tower", &image_links_}}) {
      const std::string p = layer_name(kBase + list, i);
      Link link;
      link.norm = Norm::layer(w, p + ".LayerNorm", H, eps);
      if (c.link_tower == LinkTower::ScaledAdd) link.scale = w.scalar(p + ".scaled_factor");
      // interpolate: transformers 4.47.1's loader renames every key containing "beta" to "bias", so a
      // checkpoint's beta never loads and the constructor's 0.5 is used; so do we.
      links->push_back(link);
    }
  }
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    cross_text_.push_back(EncoderLayer::load(w, layer_name(kBase + ".cross_modal_text_layers", i), cross_layer(c)));
    cross_image_.push_back(EncoderLayer::load(w, layer_name(kBase + ".cross_modal_image_layers", i), cross_layer(c)));
  }
  text_pooler_ = Linear::load(w, kBase + ".cross_modal_text_pooler.dense", H, H, true);
  image_pooler_ = Linear::load(w, kBase + ".cross_modal_image_pooler.dense", H, H, true);

  const int64_t E = c.contrastive_hidden_size;
  if (checkpoint.has_tensor("itm_score.fc.weight")) heads_.itm = Linear::load(w, "itm_score.fc", 2 * H, 2, true);
  if (checkpoint.has_tensor("itc_text_head.fc.weight")) {
    heads_.itc_text = Linear::load(w, "itc_text_head.fc", H, E, true);
    heads_.itc_image = Linear::load(w, "itc_image_head.fc", H, E, true);
    heads_.itc_cross = Linear::load(w, "itc_cross_modal_head.fc", 2 * H, E, true);
    heads_.logit_scale = std::exp(float(checkpoint.tensor("logit_scale", Shape{}).to(DType::F32).item(0)));
  }
  if (checkpoint.has_tensor("mlm_score.decoder.weight")) {
    heads_.mlm_dense = Linear::load(w, "mlm_score.transform.dense", H, H, true);
    heads_.mlm_norm = Norm::layer(w, "mlm_score.transform.LayerNorm", H, eps);
    heads_.mlm_decoder = Linear::load(w, "mlm_score.decoder", H, c.text.vocab_size, false);
    heads_.mlm_bias = w.load_f32("mlm_score.bias", Shape{c.text.vocab_size});
  }
  if (tasks().empty())
    fail("{}: no head's weights (itm_score, itc_*_head, mlm_score): nothing to score with", checkpoint.dir().string());
}

void Model::declare(std::vector<TensorSpec>& specs, const Config& c) {
  const int64_t H = c.hidden_size, E = c.contrastive_hidden_size;
  TextEmbeddings::declare(specs, kText + ".embeddings", c.text.embeddings());
  for (int64_t i = 0; i < c.text.num_hidden_layers; ++i)
    EncoderLayer::declare(specs, layer_name(kText + ".encoder.layer", i), c.text.layer());
  add_linear(specs, kText + ".pooler.dense", c.text.hidden_size, c.text.hidden_size, true);  // saved, unused
  ClipVisionTower::declare(specs, kVision, c.vision.clip(), vision_names());
  if (!c.vision.share_layernorm)  // saved by BridgeTowerVisionTransformer; the cross-modal part uses ln_post
    for (int64_t i = 0; i < c.vision.num_hidden_layers; ++i)
      add_norm(specs, layer_name(kVision + ".ln_separate", i), c.vision.hidden_size, true);
  add_linear(specs, kBase + ".cross_modal_text_transform", H, H, true);
  add_linear(specs, kBase + ".cross_modal_image_transform", H, H, true);
  specs.push_back({kBase + ".token_type_embeddings.weight", Shape{2, H}});
  add_norm(specs, kBase + ".cross_modal_text_layernorm", H, true);
  add_norm(specs, kBase + ".cross_modal_image_layernorm", H, true);
  for (int64_t i = 0; i + 1 < c.num_hidden_layers; ++i)
    for (const char* list : {".cross_modal_text_link_tower", ".cross_modal_image_link_tower"}) {
      const std::string p = layer_name(kBase + list, i);
      add_norm(specs, p + ".LayerNorm", H, true);
      if (c.link_tower == LinkTower::ScaledAdd) specs.push_back({p + ".scaled_factor", Shape{}, false, Init::Gate});
      if (c.link_tower == LinkTower::Interpolate) specs.push_back({p + ".beta", Shape{}, true, Init::Gate});
    }
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    EncoderLayer::declare(specs, layer_name(kBase + ".cross_modal_text_layers", i), cross_layer(c));
    EncoderLayer::declare(specs, layer_name(kBase + ".cross_modal_image_layers", i), cross_layer(c));
  }
  add_linear(specs, kBase + ".cross_modal_text_pooler.dense", H, H, true);
  add_linear(specs, kBase + ".cross_modal_image_pooler.dense", H, H, true);
  // Heads: required for the classes config.json's architectures names, optional otherwise.
  bool optional = !c.declares_itm;
  auto head = [&](const std::string& prefix, int64_t in, int64_t out, bool bias) {
    specs.push_back({prefix + ".weight", Shape{out, in}, optional});
    if (bias) specs.push_back({prefix + ".bias", Shape{out}, optional, Init::Bias});
  };
  head("itm_score.fc", 2 * H, 2, true);
  optional = !c.declares_contrastive;
  head("itc_text_head.fc", H, E, true);
  head("itc_image_head.fc", H, E, true);
  head("itc_cross_modal_head.fc", 2 * H, E, true);
  specs.push_back({"logit_scale", Shape{}, optional, Init::Gate});
  optional = !c.declares_mlm;
  head("mlm_score.transform.dense", H, H, true);
  specs.push_back({"mlm_score.transform.LayerNorm.weight", Shape{H}, optional, Init::Norm});
  specs.push_back({"mlm_score.transform.LayerNorm.bias", Shape{H}, optional, Init::Bias});
  head("mlm_score.decoder", H, c.text.vocab_size, false);
  specs.push_back({"mlm_score.bias", Shape{c.text.vocab_size}, optional, Init::Bias});
}

void Model::add_ops(std::vector<Op>& ops, const Config& c) {
  vlm::add_ops(ops, {Op::Matmul, Op::Add, Op::LayerNorm, Op::Activation, Op::Scale, Op::Slice});
  TextEmbeddings::add_ops(ops);
  EncoderLayer::add_ops(ops, c.text.layer());
  EncoderLayer::add_ops(ops, cross_layer(c));
  ClipVisionTower::add_ops(ops, c.vision.clip(), vision_names());
}

std::vector<std::string> Model::tasks() const {
  std::vector<std::string> t;
  if (heads_.itm) t.push_back("itm");
  if (heads_.itc_text) t.push_back("contrastive");
  if (heads_.mlm_decoder) t.push_back("mlm");
  return t;
}

Model::TextStates Model::encode_text(Workspace& ws, const Tensor& ids, const Tensor& mask, Trace* trace) const {
  Backend& be = *backend_;
  const auto& c = config_;
  const int64_t H = c.hidden_size, L = c.text.num_hidden_layers, split = c.split_index();
  if (ids.rank() != 2 || mask.shape() != ids.shape())
    fail("bridgetower: input_ids and attention_mask must be [batch, length] alike, got {} and {}", ids.shape().str(),
         mask.shape().str());
  const int64_t B = ids.dim(0), S = ids.dim(1);
  // RoBERTa positions start at padding_idx + 1.
  const int64_t longest = c.text.embeddings().max_positions - c.text.pad_token_id - 1;
  TextStates out;
  out.width = S;

  // Each row's real tokens (right padding dropped), packed.
  std::vector<int64_t> packed_ids;
  for (int64_t b = 0; b < B; ++b) {
    int64_t n = 0;
    for (int64_t s = 0; s < S; ++s) {
      if (mask.data<int64_t>()[b * S + s] == 0) continue;
      if (s != n) fail("bridgetower: row {} of attention_mask is not right-padded (a token follows padding)", b);
      packed_ids.push_back(ids.data<int64_t>()[b * S + s]);
      ++n;
    }
    if (n == 0) fail("bridgetower: row {} has no token", b);
    if (n > longest)
      fail("bridgetower: text {} has {} tokens, more than the text encoder's {} positions", b, n, longest);
    out.lengths.push_back(n);
  }
  const int64_t T = int64_t(packed_ids.size());
  Tensor text = be.empty(Shape{T, H}, DType::F32);
  {
    int64_t row = 0;
    for (int64_t b = 0; b < B; ++b) {
      const std::span<const int64_t> row_ids(packed_ids.data() + row, size_t(out.lengths[size_t(b)]));
      const std::vector<int64_t> positions = positions_from_ids(row_ids, c.text.pad_token_id);
      Tensor rows = text.rows(row, out.lengths[size_t(b)]);
      text_embeddings_.forward(ws, row_ids, {}, positions, rows);
      row += out.lengths[size_t(b)];
    }
  }
  const bool trace_text = wants(trace, "text_hidden_states");
  std::vector<Tensor> text_states;
  if (trace_text) text_states.push_back(padded(be, text, out.lengths, S));
  if (wants(trace, "text_embeddings")) record(trace, "text_embeddings", padded(be, text, out.lengths, S));
  auto keep = [&](int64_t state) {
    if (state < split) return;
    Tensor copy = be.empty(Shape{T, H}, DType::F32);
    be.copy(text, copy);
    out.states.push_back(copy);
  };
  keep(0);
  for (int64_t i = 0; i < L; ++i) {
    text_layers_[size_t(i)].forward(ws, text, out.lengths);
    if (trace_text) text_states.push_back(padded(be, text, out.lengths, S));
    keep(i + 1);
  }
  if (trace_text) record(trace, "text_hidden_states", stack(text_states));
  if (wants(trace, "text_encoder_output"))
    record(trace, "text_encoder_output", padded(be, out.states.back(), out.lengths, S));
  return out;
}

std::vector<Tensor> Model::encode_vision(const Tensor& pixels, bool last_only, Trace* trace) const {
  Backend& be = *backend_;
  const auto& c = config_;
  const int64_t H = c.hidden_size, L = c.text.num_hidden_layers, split = c.split_index();
  if (pixels.rank() != 4) fail("bridgetower: pixel_values must be [images, 3, H, W], got {}", pixels.shape().str());
  const int64_t B = pixels.dim(0), N = image_tokens();
  // State 0 (the embeddings) too when traced.
  std::vector<int64_t> layers;
  const bool trace_embeddings = wants(trace, "vision_embeddings");
  const int64_t first = last_only ? L : split;
  if (trace_embeddings && first > 0) layers.push_back(0);
  for (int64_t s = first; s <= L; ++s) layers.push_back(s);
  const std::vector<Tensor> states = vision_.layer_states(be, pixels, layers, false, trace);  // [B, N, H] each
  if (trace_embeddings) record(trace, "vision_embeddings", states[0]);
  std::vector<Tensor> out;
  for (size_t k = (trace_embeddings && first > 0) ? 1 : 0; k < states.size(); ++k) {
    Tensor normed = be.empty(Shape{B * N, H}, DType::F32);
    vision_.post_layernorm().forward(be, states[k].reshape(Shape{B * N, H}), normed);
    out.push_back(normed);
  }
  record(trace, "vision_encoder_output", out.back().reshape(Shape{B, N, H}));
  return out;
}

std::vector<Tensor> Model::cross_inputs(const std::vector<Tensor>& states, bool image) const {
  Backend& be = *backend_;
  const Linear& transform = image ? image_transform_ : text_transform_;
  const Tensor type = token_types_.rows(image ? 1 : 0, 1);
  const Norm& norm = image ? image_norm_ : text_norm_;
  std::vector<Tensor> out;
  for (size_t j = 0; j < states.size(); ++j) {
    Tensor x = be.empty(states[j].shape(), DType::F32);
    transform.forward(be, states[j], x);
    be.add(x, type, x);
    if (j == 0) norm.forward(be, x, x);
    out.push_back(x);
  }
  return out;
}

Model::CrossOutput Model::cross_modal(Workspace& ws, std::span<const Tensor> text_inputs,
                                      const std::vector<int64_t>& text_lengths, std::span<const Tensor> image_inputs,
                                      const std::vector<int64_t>& image_lengths, int64_t width, Trace* trace) const {
  Backend& be = *backend_;
  const auto& c = config_;
  const int64_t H = c.hidden_size, S = width;
  const int64_t B = int64_t(image_lengths.size()), N = image_lengths[0];
  if (int64_t(text_inputs.size()) != c.num_hidden_layers || int64_t(image_inputs.size()) != c.num_hidden_layers)
    fail("bridgetower: {} text and {} image cross-modal inputs for {} layers", text_inputs.size(), image_inputs.size(),
         c.num_hidden_layers);
  const int64_t T = text_inputs[0].dim(0), I = image_inputs[0].dim(0);
  Tensor x_text = ws.get("bt.x_text", Shape{T, H}), x_image = ws.get("bt.x_image", Shape{I, H});
  be.copy(text_inputs[0], x_text);
  be.copy(image_inputs[0], x_image);
  if (wants(trace, "cross_modal_text_input"))
    record(trace, "cross_modal_text_input", padded(be, x_text, text_lengths, S));
  record(trace, "cross_modal_image_input", x_image.reshape(Shape{B, N, H}));

  std::vector<Tensor> text_links, image_links, text_hidden, image_hidden;
  const bool trace_cross = wants(trace, "cross_modal_text_hidden_states") || wants(trace, "text_link_tower_outputs");
  Tensor y_text = be.empty(Shape{T, H}, DType::F32), y_image = be.empty(Shape{I, H}, DType::F32);
  Tensor link_text = ws.get("bt.link_in_text", Shape{T, H}), link_image = ws.get("bt.link_in_image", Shape{I, H});
  auto link = [&](const Link& tower, const Tensor& input, Tensor& from_encoder, const Tensor& cross_output,
                  Tensor& out) {
    // add: LN(x + y); scaled_add: LN(x * scale + y); interpolate: LN(x * (1 - beta) + y * beta)
    be.copy(input, from_encoder);
    if (c.link_tower == LinkTower::ScaledAdd) be.scale(from_encoder, tower.scale, from_encoder);
    if (c.link_tower == LinkTower::Interpolate) {
      be.scale(from_encoder, 1.0f - tower.beta, from_encoder);
      Tensor scaled = ws.get("bt.link_scaled", cross_output.shape());
      be.scale(cross_output, tower.beta, scaled);
      be.add(from_encoder, scaled, from_encoder);
    } else {
      be.add(from_encoder, cross_output, from_encoder);
    }
    tower.norm.forward(be, from_encoder, out);
  };
  for (int64_t j = 0; j < c.num_hidden_layers; ++j) {
    if (j > 0) {
      link(text_links_[size_t(j - 1)], text_inputs[size_t(j)], link_text, y_text, x_text);
      link(image_links_[size_t(j - 1)], image_inputs[size_t(j)], link_image, y_image, x_image);
      if (trace_cross) {
        text_links.push_back(padded(be, x_text, text_lengths, S));
        image_links.push_back(be.download(x_image).reshape(Shape{B, N, H}).clone());
      }
    }
    // Both streams read this layer's inputs: each attends to the other's input, not its output.
    be.copy(x_text, y_text);
    be.copy(x_image, y_image);
    cross_text_[size_t(j)].forward(ws, y_text, text_lengths, &x_image, image_lengths);
    cross_image_[size_t(j)].forward(ws, y_image, image_lengths, &x_text, text_lengths);
    if (trace_cross) {
      text_hidden.push_back(padded(be, y_text, text_lengths, S));
      image_hidden.push_back(be.download(y_image).reshape(Shape{B, N, H}).clone());
    }
  }
  if (trace_cross) {
    if (!text_links.empty()) {
      record(trace, "text_link_tower_outputs", stack(text_links));
      record(trace, "image_link_tower_outputs", stack(image_links));
    }
    record(trace, "cross_modal_text_hidden_states", stack(text_hidden));
    record(trace, "cross_modal_image_hidden_states", stack(image_hidden));
  }
  CrossOutput out;
  out.text_features = y_text;
  out.image_features = y_image;
  if (wants(trace, "text_features")) record(trace, "text_features", padded(be, y_text, text_lengths, S));
  record(trace, "image_features", y_image.reshape(Shape{B, N, H}));

  // Poolers: tanh(dense(first token)) of each stream, concatenated (text, image).
  out.pooled = Tensor::zeros(Shape{B, 2 * H}, DType::F32);
  int which = 0;
  for (auto [features, lengths, pooler] : {std::tuple{&y_text, &text_lengths, &text_pooler_},
                                           std::tuple{&y_image, &image_lengths, &image_pooler_}}) {
    const Tensor cls = first_rows(be, ws, "bt.cls", *features, *lengths);
    Tensor dense = ws.get("bt.pooled", Shape{B, H});
    pooler->forward(be, cls, dense);
    const Tensor host = be.download(dense).to(DType::F32);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        out.pooled.data<float>()[b * 2 * H + which * H + h] = std::tanh(host.data<float>()[b * H + h]);
    ++which;
  }
  record(trace, "pooler_output", out.pooled);
  return out;
}

Tensor Model::on_host(Workspace& ws, const Linear& linear, const Tensor& host_rows, const std::string& slot) const {
  Backend& be = *backend_;
  Tensor x = ws.get(slot + ".in", host_rows.shape());
  be.copy(host_rows, x);
  Tensor y = ws.get(slot + ".out", Shape{host_rows.dim(0), linear.out});
  linear.forward(be, x, y);
  return be.download(y).to(DType::F32).clone();
}

Tensor Model::text_embeddings(Workspace& ws, const Tensor& last_state, const std::vector<int64_t>& lengths) const {
  // The uni-modal CLS of the last text layer.
  Backend& be = *backend_;
  const Tensor cls = first_rows(be, ws, "bt.text_cls", last_state, lengths);
  Tensor embeds = on_host(ws, *heads_.itc_text, be.download(cls).to(DType::F32).clone(), "bt.itc_text");
  l2_normalise_rows(embeds);
  return embeds;
}

Tensor Model::image_embeddings(Workspace& ws, const Tensor& last_state, const std::vector<int64_t>& lengths) const {
  // The CLS of transform(ln_post(last state)) + type 1: the transform is per row, so only CLS rows go in.
  Backend& be = *backend_;
  const int64_t B = int64_t(lengths.size()), H = config_.hidden_size;
  const Tensor cls = first_rows(be, ws, "bt.image_cls", last_state, lengths);
  Tensor x = ws.get("bt.itc_image_x", Shape{B, H});
  image_transform_.forward(be, cls, x);
  be.add(x, token_types_.rows(1, 1), x);
  Tensor embeds = on_host(ws, *heads_.itc_image, be.download(x).to(DType::F32).clone(), "bt.itc_image");
  l2_normalise_rows(embeds);
  return embeds;
}

Tensor Model::itm_logits(Workspace& ws, const Tensor& pooled) const { return on_host(ws, *heads_.itm, pooled, "bt.itm"); }

TensorMap Model::score(std::string_view task, const ModelInputs& inputs, Trace* trace) {
  const auto known = tasks();
  if (std::find(known.begin(), known.end(), task) == known.end())
    fail("bridgetower: task '{}' is not available with this checkpoint (it has: {})", task, fmt::join(known, ", "));
  Backend& be = *backend_;
  const auto& c = config_;
  const int64_t H = c.hidden_size;
  const auto lease = workspaces_->acquire();
  Workspace& ws = *lease;
  const TextStates text = encode_text(ws, inputs.at("input_ids"), inputs.at("attention_mask"), trace);
  const int64_t B = int64_t(text.lengths.size());
  const Tensor& pixels = inputs.at("pixel_values");
  if (pixels.rank() != 4 || pixels.dim(0) != B)
    fail("bridgetower: pixel_values must hold one image per text ([{}, 3, H, W]), got {}", B, pixels.shape().str());
  const std::vector<Tensor> vision = encode_vision(pixels, false, trace);
  const std::vector<int64_t> image_lengths(size_t(B), image_tokens());
  const CrossOutput cross = cross_modal(ws, cross_inputs(text.states, false), text.lengths, cross_inputs(vision, true),
                                        image_lengths, text.width, trace);
  TensorMap out;
  if (task == "itm") {
    Tensor logits = itm_logits(ws, cross.pooled);
    Tensor prob = Tensor::zeros(Shape{B}, DType::F32);
    for (int64_t b = 0; b < B; ++b) prob.data<float>()[b] = match_probability(logits.data<float>() + 2 * b);
    out.emplace("logits", logits);
    out.emplace("match_prob", prob);
  } else if (task == "contrastive") {
    const Tensor text_embeds = text_embeddings(ws, text.states.back(), text.lengths);
    const Tensor image_embeds = image_embeddings(ws, vision.back(), image_lengths);
    const Tensor cross_embeds = [&] {
      Tensor t = on_host(ws, *heads_.itc_cross, cross.pooled, "bt.itc_cross");
      l2_normalise_rows(t);
      return t;
    }();
    const float scale = heads_.logit_scale;
    const int64_t E = text_embeds.dim(1);
    Tensor stacked = Tensor::zeros(Shape{B, 3, E}, DType::F32);  // HF's `logits`: (text, image, cross) per row
    for (int64_t b = 0; b < B; ++b) {
      int k = 0;
      for (const Tensor* t : {&text_embeds, &image_embeds, &cross_embeds})
        std::copy_n(t->data<float>() + b * E, E, stacked.data<float>() + (b * 3 + k++) * E);
    }
    Tensor text_to_image = similarity(text_embeds, image_embeds, scale);
    Tensor text_to_cross = similarity(text_embeds, cross_embeds, scale);
    Tensor image_to_cross = similarity(image_embeds, cross_embeds, scale);
    // HF's return_loss: row i's text and image are the matching pair.
    Tensor loss = Tensor::zeros(Shape{1}, DType::F32);
    loss.data<float>()[0] = float((diagonal_cross_entropy(text_to_image) + diagonal_cross_entropy(text_to_cross) +
                                   diagonal_cross_entropy(image_to_cross)) /
                                  3.0);
    out.emplace("loss", loss);
    out.emplace("logits_text_to_image", text_to_image);
    out.emplace("logits_text_to_cross", text_to_cross);
    out.emplace("logits_image_to_cross", image_to_cross);
    out.emplace("logits", stacked);
    out.emplace("text_embeds", text_embeds);
    out.emplace("image_embeds", image_embeds);
    out.emplace("cross_embeds", cross_embeds);
  } else {  // mlm: vocabulary logits of the cross-modal text features, at every (real) position
    const int64_t T = cross.text_features.dim(0), V = c.text.vocab_size;
    Tensor h = ws.get("bt.mlm_h", Shape{T, H});
    heads_.mlm_dense->forward(be, cross.text_features, h);
    be.activation(activation_from_name(c.hidden_act), h, h);
    heads_.mlm_norm.forward(be, h, h);
    Tensor logits = ws.get("bt.mlm_logits", Shape{T, V});
    heads_.mlm_decoder->forward(be, h, logits);
    be.add(logits, heads_.mlm_bias, logits);
    out.emplace("logits", padded(be, logits, text.lengths, text.width));
  }
  for (const auto& [name, t] : out) record(trace, name, t);
  return out;
}

// Retrieval.

namespace {

// What encode_images / encode_texts keep of one image or text.
struct Encoded final : Encoding {
  std::string method;
  bool image = false;
  std::vector<Tensor> inputs;  // itm: each cross-modal layer's input rows [tokens, H], on the backend
  Tensor embed;                // itc: [E] host, L2-normalised
  Tensor embedding() const override { return embed; }
};

const Encoded& ours(const Encoding* encoding, std::string_view method, bool image) {
  const auto* e = dynamic_cast<const Encoded*>(encoding);
  if (!e) fail("bridgetower: an encoding made by another model");
  if (e->method != method || e->image != image)
    fail("bridgetower: a{} {} encoding made for '{}' passed as a{} {} encoding for '{}'", e->image ? "n" : "",
         e->image ? "image" : "text", e->method, image ? "n" : "", image ? "image" : "text", method);
  return *e;
}

// Row `first`..`first + count` of each of `per_layer` [rows, H], copied into tensors of their own.
std::vector<Tensor> own_rows(Backend& be, const std::vector<Tensor>& per_layer, int64_t first, int64_t count) {
  std::vector<Tensor> out;
  for (const Tensor& layer : per_layer) {
    Tensor t = be.empty(Shape{count, layer.dim(1)}, DType::F32);
    be.copy(layer.rows(first, count), t);
    out.push_back(t);
  }
  return out;
}

}  // namespace

std::vector<std::string> Model::retrieval_methods() const {
  std::vector<std::string> m;
  if (heads_.itm) m.push_back("itm");
  if (heads_.itc_text) m.push_back("itc");
  return m;
}

void Model::check_method(std::string_view method) const {
  const auto known = retrieval_methods();
  if (std::find(known.begin(), known.end(), method) == known.end())
    fail("bridgetower: retrieval by '{}' is not available with this checkpoint (it has: {})", method,
         fmt::join(known, ", "));
}

std::vector<std::unique_ptr<Encoding>> Model::encode_images(std::string_view method, std::span<const Image> images) {
  check_method(method);
  std::vector<std::unique_ptr<Encoding>> out;
  if (images.empty()) return out;
  const TensorMap pixels = processor_->image_processor().preprocess(images, {});
  const auto lease = workspaces_->acquire();
  const bool itc = method == "itc";
  const std::vector<Tensor> vision = encode_vision(pixels.at("pixel_values"), itc, nullptr);
  const int64_t B = int64_t(images.size()), N = image_tokens();
  const std::vector<Tensor> inputs = itc ? std::vector<Tensor>{} : cross_inputs(vision, true);
  const Tensor embeds = itc ? image_embeddings(*lease, vision.back(), std::vector<int64_t>(size_t(B), N)) : Tensor{};
  for (int64_t b = 0; b < B; ++b) {
    auto e = std::make_unique<Encoded>();
    e->method = std::string(method);
    e->image = true;
    if (itc) e->embed = embeds.rows(b, 1).reshape(Shape{embeds.dim(1)}).clone();
    else e->inputs = own_rows(*backend_, inputs, b * N, N);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::unique_ptr<Encoding>> Model::encode_texts(std::string_view method, std::span<const std::string> texts) {
  check_method(method);
  std::vector<std::unique_ptr<Encoding>> out;
  if (texts.empty()) return out;
  const ModelInputs prepared = processor_->prepare_texts(texts);
  const auto lease = workspaces_->acquire();
  const TextStates text = encode_text(*lease, prepared.at("input_ids"), prepared.at("attention_mask"), nullptr);
  const bool itc = method == "itc";
  const std::vector<Tensor> inputs = itc ? std::vector<Tensor>{} : cross_inputs(text.states, false);
  const Tensor embeds = itc ? text_embeddings(*lease, text.states.back(), text.lengths) : Tensor{};
  int64_t row = 0;
  for (size_t b = 0; b < texts.size(); ++b) {
    auto e = std::make_unique<Encoded>();
    e->method = std::string(method);
    if (itc) e->embed = embeds.rows(int64_t(b), 1).reshape(Shape{embeds.dim(1)}).clone();
    else e->inputs = own_rows(*backend_, inputs, row, text.lengths[b]);
    row += text.lengths[b];
    out.push_back(std::move(e));
  }
  return out;
}

Tensor Model::score_pairs(std::string_view method, std::span<const Encoding* const> images,
                          std::span<const Encoding* const> texts) {
  check_method(method);
  if (images.size() != texts.size())
    fail("bridgetower: {} image encodings for {} text encodings: pairs need one of each", images.size(), texts.size());
  const int64_t P = int64_t(images.size());
  Tensor scores = Tensor::zeros(Shape{P}, DType::F32);
  if (P == 0) return scores;
  if (method == "itc") {  // logits_text_to_image: scaled cosine similarity
    for (int64_t p = 0; p < P; ++p) {
      const Tensor& a = ours(texts[size_t(p)], method, false).embed;
      const Tensor& b = ours(images[size_t(p)], method, true).embed;
      float dot = 0;
      for (int64_t k = 0; k < a.numel(); ++k) dot += a.data<float>()[k] * b.data<float>()[k];
      scores.data<float>()[p] = dot * heads_.logit_scale;
    }
    return scores;
  }
  // itm: the pairs' cross-modal inputs gathered layer by layer, one cross-modal forward for the batch.
  Backend& be = *backend_;
  const int64_t H = config_.hidden_size, N = image_tokens(), layers = config_.num_hidden_layers;
  std::vector<int64_t> text_lengths, image_lengths(size_t(P), N);
  std::vector<const Encoded*> text_side, image_side;
  for (int64_t p = 0; p < P; ++p) {
    text_side.push_back(&ours(texts[size_t(p)], method, false));
    image_side.push_back(&ours(images[size_t(p)], method, true));
    text_lengths.push_back(text_side.back()->inputs[0].dim(0));
  }
  const int64_t T = std::accumulate(text_lengths.begin(), text_lengths.end(), int64_t(0));
  const auto lease = workspaces_->acquire();
  std::vector<Tensor> text_inputs, image_inputs;
  for (int64_t j = 0; j < layers; ++j) {
    Tensor t = lease->get("bt.pair_text." + std::to_string(j), Shape{T, H});
    Tensor i = lease->get("bt.pair_image." + std::to_string(j), Shape{P * N, H});
    int64_t row = 0;
    for (int64_t p = 0; p < P; ++p) {
      Tensor dst = t.rows(row, text_lengths[size_t(p)]);
      be.copy(text_side[size_t(p)]->inputs[size_t(j)], dst);
      row += text_lengths[size_t(p)];
      Tensor image_dst = i.rows(p * N, N);
      be.copy(image_side[size_t(p)]->inputs[size_t(j)], image_dst);
    }
    text_inputs.push_back(t);
    image_inputs.push_back(i);
  }
  const int64_t width = *std::max_element(text_lengths.begin(), text_lengths.end());
  const CrossOutput cross = cross_modal(*lease, text_inputs, text_lengths, image_inputs, image_lengths, width, nullptr);
  const Tensor logits = itm_logits(*lease, cross.pooled);
  for (int64_t p = 0; p < P; ++p) scores.data<float>()[p] = match_probability(logits.data<float>() + 2 * p);
  return scores;
}

}  // namespace vlm::bridgetower
