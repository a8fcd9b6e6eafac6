// The bad-input matrix: one broken input per case, each run through the `vlm` command as a user would meet
// it. Every case must end with a non-zero exit (1 for bad input, 2 for a usage error), nothing on stdout,
// and a message naming what is wrong and where (the file, tensor, key, line or document). A second table
// holds unusual inputs that are not errors (PIL reads them, so vlm must too) and must run.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_support.hpp"

namespace {

using nlohmann::json;

// The qwen2_vl fixture (its presence is checked by each test case first).
const fs::path& fixture_dir() {
  static const fs::path dir = vlm::test::shared_dir() / "fixtures" / "qwen2_vl";
  return dir;
}

// A private, writable copy of the qwen2_vl fixture checkpoint for one case to break.
fs::path checkpoint_copy(const std::string& name) {
  const fs::path dir = vlm::test::temp_dir("bad-input-" + name) / "checkpoint";
  fs::remove_all(dir);
  fs::copy(fixture_dir() / "checkpoint", dir, fs::copy_options::recursive);
  return dir;
}

void edit_json(const fs::path& file, const std::function<void(json&)>& edit) {
  json j = json::parse(read_file(file));
  edit(j);
  write_file(file, j.dump(2));
}

// Rewrites a safetensors file's header JSON, keeping its data bytes (offsets are relative to the data).
void edit_safetensors_header(const fs::path& file, const std::function<void(json&)>& edit) {
  const std::string bytes = read_file(file);
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = length << 8 | uint8_t(bytes[size_t(i)]);
  json header = json::parse(bytes.substr(8, length));
  edit(header);
  const std::string text = header.dump();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char(uint64_t(text.size()) >> (8 * i) & 0xff);
  write_file(file, out + text + bytes.substr(8 + length));
}

// The name of the first tensor in the file whose name contains `part` and whose rank is `rank`.
std::string tensor_named(const fs::path& file, const std::string& part, size_t rank) {
  std::string found;
  edit_safetensors_header(file, [&](json& h) {
    for (auto& [name, info] : h.items())
      if (found.empty() && name != "__metadata__" && name.find(part) != std::string::npos && info["shape"].size() == rank)
        found = name;
  });
  REQUIRE(!found.empty());
  return found;
}

// `vlm run` on `checkpoint` on the CPU with `extra`; "--prompt Describe" unless `extra` gives the prompt.
std::vector<std::string> run_args(const fs::path& checkpoint, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"run", "--model", checkpoint.string(), "--greedy", "--max-new-tokens", "2"};
  const auto given = [&](const char* option) { return std::find(extra.begin(), extra.end(), option) != extra.end(); };
  if (!given("--prompt") && !given("--messages")) args.insert(args.end(), {"--prompt", "Describe"});
  if (!given("--device")) args.insert(args.end(), {"--device", "cpu"});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<std::string> image_args(const fs::path& image) {
  return run_args(fixture_dir() / "checkpoint", {"--image", image.string()});
}

fs::path scratch(const std::string& name) { return vlm::test::temp_dir("bad-input-" + name); }

fs::path write_in(const std::string& name, const std::string& file, const std::string& bytes) {
  const fs::path path = scratch(name) / file;
  write_file(path, bytes);
  return path;
}

// Tiny images of every unusual kind (tests/fuzz/seeds/image); test_load_image checks each conversion against PIL.
fs::path image_seed(const std::string& name) {
  return fs::path(VLM_SOURCE_DIR) / "tests" / "fuzz" / "seeds" / "image" / name;
}

struct Case {
  std::string name;
  std::function<std::vector<std::string>()> args;
  int exit_code;
  std::vector<std::string> message;  // every piece must appear on stderr
};

const std::vector<Case>& bad_cases() {
  static const std::vector<Case> cases = {
      // ---- checkpoint files ----
      {"safetensors truncated in its data", [] {
         const fs::path c = checkpoint_copy("truncated");
         const std::string bytes = read_file(c / "model.safetensors");
         write_file(c / "model.safetensors", bytes.substr(0, bytes.size() / 2));
         return run_args(c);
       }, 1, {"model.safetensors"}},
      {"safetensors truncated inside its header", [] {
         const fs::path c = checkpoint_copy("truncated-header");
         write_file(c / "model.safetensors", read_file(c / "model.safetensors").substr(0, 100));
         return run_args(c);
       }, 1, {"model.safetensors", "header"}},
      {"safetensors whose header length lies", [] {
         const fs::path c = checkpoint_copy("lying-length");
         std::string bytes = read_file(c / "model.safetensors");
         bytes[6] = '\x7f';  // a header of ~2^55 bytes
         write_file(c / "model.safetensors", bytes);
         return run_args(c);
       }, 1, {"model.safetensors", "header"}},
      {"safetensors header that is not JSON", [] {
         const fs::path c = checkpoint_copy("header-not-json");
         std::string bytes = read_file(c / "model.safetensors");
         bytes[8] = '#';
         write_file(c / "model.safetensors", bytes);
         return run_args(c);
       }, 1, {"model.safetensors", "JSON"}},
      {"safetensors tensor whose offsets run past the file", [] {
         const fs::path c = checkpoint_copy("offsets");
         std::string victim;
         edit_safetensors_header(c / "model.safetensors", [&](json& h) {
           for (auto& [name, info] : h.items())
             if (name != "__metadata__" && victim.empty()) {
               victim = name;
               info["data_offsets"][1] = info["data_offsets"][1].get<uint64_t>() + (uint64_t(1) << 40);
             }
         });
         return run_args(c);
       }, 1, {"model.safetensors"}},
      {"safetensors tensor whose byte size disagrees with its shape", [] {
         const fs::path c = checkpoint_copy("size-mismatch");
         const std::string name = tensor_named(c / "model.safetensors", "embed_tokens", 2);
         edit_safetensors_header(c / "model.safetensors", [&](json& h) { h[name]["shape"][0] = h[name]["shape"][0].get<int64_t>() + 1; });
         return run_args(c);
       }, 1, {"model.safetensors", "embed_tokens"}},
      {"safetensors tensor of an unknown dtype", [] {
         const fs::path c = checkpoint_copy("unknown-dtype");
         const std::string name = tensor_named(c / "model.safetensors", "embed_tokens", 2);
         edit_safetensors_header(c / "model.safetensors", [&](json& h) { h[name]["dtype"] = "F8_E9M0"; });
         return run_args(c);
       }, 1, {"model.safetensors", "F8_E9M0"}},
      {"a shard index naming a missing shard", [] {
         const fs::path c = checkpoint_copy("missing-shard");
         json index = {{"metadata", json::object()}, {"weight_map", json::object()}};
         edit_safetensors_header(c / "model.safetensors", [&](json& h) {
           bool first = true;
           for (auto& [name, info] : h.items()) {
             if (name == "__metadata__") continue;
             index["weight_map"][name] = first ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors";
             first = false;
           }
         });
         fs::rename(c / "model.safetensors", c / "model-00001-of-00002.safetensors");
         write_file(c / "model.safetensors.index.json", index.dump());
         return run_args(c);
       }, 1, {"model-00002-of-00002.safetensors"}},
      {"a missing tensor", [] {
         const fs::path c = checkpoint_copy("missing-tensor");
         const std::string name = tensor_named(c / "model.safetensors", "self_attn.o_proj", 2);
         edit_safetensors_header(c / "model.safetensors", [&](json& h) {
           h["renamed.weight"] = h[name];
           h.erase(name);
         });
         return run_args(c);
       }, 1, {"self_attn.o_proj", "missing"}},
      {"a tensor of the wrong shape", [] {
         const fs::path c = checkpoint_copy("wrong-shape");
         const std::string name = tensor_named(c / "model.safetensors", "mlp.down_proj", 2);
         edit_safetensors_header(c / "model.safetensors", [&](json& h) {  // same bytes, transposed shape
           json shape = h[name]["shape"];
           h[name]["shape"] = json::array({shape[1], shape[0]});
         });
         return run_args(c);
       }, 1, {"mlp.down_proj", "shape"}},
      {"a tensor of the wrong dtype", [] {
         const fs::path c = checkpoint_copy("wrong-dtype");
         const std::string name = tensor_named(c / "model.safetensors", "mlp.down_proj", 2);
         edit_safetensors_header(c / "model.safetensors", [&](json& h) {
           const std::string dtype = h[name]["dtype"];
           h[name]["dtype"] = dtype == "F32" ? "I32" : "I16";  // same size, not a float
         });
         return run_args(c);
       }, 1, {"mlp.down_proj"}},
      {"no weights at all", [] {
         const fs::path c = checkpoint_copy("no-weights");
         fs::remove(c / "model.safetensors");
         return run_args(c);
       }, 1, {"safetensors"}},
      {"config.json with a wrong type", [] {
         const fs::path c = checkpoint_copy("config-type");
         edit_json(c / "config.json", [](json& j) { j["hidden_size"] = "large"; });
         return run_args(c);
       }, 1, {"checkpoint/config.json", "hidden_size"}},
      {"config.json with a wrong type in a nested config", [] {
         const fs::path c = checkpoint_copy("config-nested-type");
         edit_json(c / "config.json", [](json& j) { j["vision_config"]["depth"] = json::array({1}); });
         return run_args(c);
       }, 1, {"checkpoint/config.json", "depth"}},
      {"config.json without model_type", [] {
         const fs::path c = checkpoint_copy("config-no-type");
         edit_json(c / "config.json", [](json& j) { j.erase("model_type"); });
         return run_args(c);
       }, 1, {"checkpoint/config.json", "model_type"}},
      {"an unsupported model_type", [] {
         const fs::path c = checkpoint_copy("config-unsupported");
         edit_json(c / "config.json", [](json& j) { j["model_type"] = "gpt_bigvision"; });
         return run_args(c);
       }, 1, {"gpt_bigvision"}},
      {"config.json that is not JSON", [] {
         const fs::path c = checkpoint_copy("config-not-json");
         write_file(c / "config.json", "{\"model_type\": \"qwen2_vl\",\n  \"hidden_size\": 64,,\n}");
         return run_args(c);
       }, 1, {"checkpoint/config.json:2:21", "invalid JSON"}},
      {"config.json with a number no double holds", [] {  // a fuzz finding: nlohmann's out_of_range escaped
         const fs::path c = checkpoint_copy("config-huge-number");
         write_file(c / "config.json", "{\"model_type\": \"qwen2_vl\", \"rope_theta\": 1e999}");
         return run_args(c);
       }, 1, {"checkpoint/config.json: invalid JSON", "1e999"}},
      {"config.json nested a million levels deep", [] {
         const fs::path c = checkpoint_copy("config-deep");
         write_file(c / "config.json", std::string(1000000, '[') + std::string(1000000, ']'));
         return run_args(c);
       }, 1, {"checkpoint/config.json", "nested deeper"}},
      {"a checkpoint folder without config.json", [] {
         const fs::path c = checkpoint_copy("no-config");
         fs::remove(c / "config.json");
         return run_args(c);
       }, 1, {"config.json"}},
      {"generation_config.json with a wrong type", [] {
         const fs::path c = checkpoint_copy("generation-type");
         edit_json(c / "generation_config.json", [](json& j) { j["temperature"] = "hot"; });
         return run_args(c);
       }, 1, {"checkpoint/generation_config.json: temperature"}},
      {"preprocessor_config.json with a wrong type", [] {
         const fs::path c = checkpoint_copy("preprocessor-type");
         edit_json(c / "preprocessor_config.json", [](json& j) { j["patch_size"] = "fourteen"; });
         return run_args(c, {"--image", (fixture_dir() / "inputs" / "image_single.png").string()});
       }, 1, {"checkpoint/preprocessor_config.json: patch_size"}},
      {"a tokenizer.json with an unknown component", [] {
         const fs::path c = checkpoint_copy("tokenizer-component");
         edit_json(c / "tokenizer.json", [](json& j) { j["pre_tokenizer"] = {{"type", "QuantumSplit"}}; });
         return run_args(c);
       }, 1, {"tokenizer.json", "QuantumSplit"}},
      {"a tokenizer.json that is not JSON", [] {
         const fs::path c = checkpoint_copy("tokenizer-not-json");
         write_file(c / "tokenizer.json", "{\"model\": ");
         return run_args(c);
       }, 1, {"tokenizer.json"}},
      {"a chat template that raises", [] {
         const fs::path c = checkpoint_copy("template-raises");
         write_file(c / "chat_template.json", json{{"chat_template", "{{ raise_exception('Only two roles here') }}"}}.dump());
         return run_args(c);
       }, 1, {"Only two roles here"}},
      {"a chat template that does not parse", [] {
         const fs::path c = checkpoint_copy("template-syntax");
         write_file(c / "chat_template.json", json{{"chat_template", "{% for m in messages %}\n{{ m.content }\n{% endfor %}"}}.dump());
         return run_args(c);
       }, 1, {"chat_template.json:2:14", "unexpected '}'"}},
      {"a named model absent from the Hugging Face cache", [] {
         return std::vector<std::string>{"run", "--model", "qwen2-vl-2b", "--prompt", "x"};
       }, 1, {"qwen2-vl-2b", "Qwen/Qwen2-VL-2B-Instruct"}},
      {"a model that names nothing known", [] {
         return std::vector<std::string>{"run", "--model", "no-such-model-anywhere", "--prompt", "x"};
       }, 1, {"no-such-model-anywhere"}},
      // ---- images and videos ----
      {"an image that is text", [] { return image_args(write_in("text", "notes.png", "this is not a PNG\n")); },
       1, {"notes.png", "cannot read image"}},
      {"an empty image file", [] { return image_args(write_in("empty", "empty.jpg", "")); }, 1, {"empty.jpg"}},
      {"a truncated PNG", [] {
         const std::string bytes = read_file(fixture_dir() / "inputs" / "image_single.png");
         return image_args(write_in("truncated-png", "cut.png", bytes.substr(0, bytes.size() / 2)));
       }, 1, {"cut.png"}},
      {"a JPEG that ends after its header", [] {
         return image_args(write_in("truncated-jpeg", "cut.jpg", std::string("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20)));
       }, 1, {"cut.jpg"}},
      {"a huge image (header only)", [] { return image_args(write_in("huge", "bomb.ppm", "P6\n100000 100000\n255\n")); },
       1, {"bomb.ppm", "10000000000 pixels"}},
      {"an image smaller than the model's minimum", [] { return image_args(image_seed("rgba.png")); },
       1, {"rgba.png", "7x5", "at least 28 pixels"}},
      {"an image path that does not exist", [] { return image_args(scratch("absent") / "absent.png"); },
       1, {"absent.png"}},
      {"an image path that is a folder", [] { return image_args(scratch("folder")); }, 1, {"bad-input-folder"}},
      {"an image path that is a device", [] { return image_args("/dev/zero"); }, 1, {"/dev/zero"}},
      {"more images than placeholders", [] {
         return run_args(fixture_dir() / "checkpoint",
                         {"--raw", "--prompt", "<|vision_start|><|image_pad|><|vision_end|>Describe", "--image",
                          (fixture_dir() / "inputs" / "image_single.png").string(), "--image",
                          (fixture_dir() / "inputs" / "image_multi_a.png").string()});
       }, 1, {"2 image"}},
      {"fewer images than placeholders", [] {
         return run_args(fixture_dir() / "checkpoint",
                         {"--raw", "--prompt", "<|vision_start|><|image_pad|><|vision_end|><|vision_start|><|image_pad|><|vision_end|>Describe",
                          "--image", (fixture_dir() / "inputs" / "image_single.png").string()});
       }, 1, {"1 image"}},
      {"a video folder with no frames", [] { return run_args(fixture_dir() / "checkpoint", {"--video", scratch("no-frames").string()}); },
       1, {"bad-input-no-frames", "no image files"}},
      {"a video given as a file", [] {
         return run_args(fixture_dir() / "checkpoint", {"--video", write_in("video-file", "clip.mp4", "not a video").string()});
       }, 1, {"clip.mp4", "folder of frames"}},
      {"video frames of different sizes", [] {
         const fs::path dir = scratch("frame-sizes");
         fs::copy_file(fixture_dir() / "inputs" / "video_frame_0.png", dir / "0.png", fs::copy_options::overwrite_existing);
         write_file(dir / "1.ppm", std::string("P6\n2 1\n255\n") + std::string(6, '\0'));
         return run_args(fixture_dir() / "checkpoint", {"--video", dir.string()});
       }, 1, {"1.ppm", "one size"}},
      // ---- messages files ----
      {"a messages file that is not JSON", [] {
         return run_args(fixture_dir() / "checkpoint", {"--messages", write_in("messages-json", "m.json", "[{\"role\": \"user\",\n \"content\": }]").string()});
       }, 1, {"m.json"}},
      {"a messages file with a number no double holds", [] {  // a fuzz finding (fuzz_messages)
         return run_args(fixture_dir() / "checkpoint", {"--messages", write_in("messages-number", "m.json",
                         R"([{"role": 3E333, "content": "hi"}])").string()});
       }, 1, {"m.json: invalid JSON", "3E333"}},
      {"a content item that is not an object", [] {  // a fuzz finding (fuzz_messages)
         return run_args(fixture_dir() / "checkpoint", {"--messages", write_in("messages-item", "m.json",
                         R"([{"role": "user", "content": [{"type": "text", "text": "hi"}, 11111]}])").string()});
       }, 1, {"m.json: message 0: content item 1 must be an object, not number"}},
      {"a message without a role", [] {
         return run_args(fixture_dir() / "checkpoint", {"--messages", write_in("messages-role", "m.json", R"([{"content": "hi"}])").string()});
       }, 1, {"m.json", "message 0", "role"}},
      {"a content item of an unknown type", [] {
         return run_args(fixture_dir() / "checkpoint", {"--messages", write_in("messages-type", "m.json",
                         R"([{"role": "user", "content": [{"type": "audio", "path": "a.wav"}]}])").string()});
       }, 1, {"m.json", "message 0", "audio"}},
      {"an image named by URL", [] {
         return run_args(fixture_dir() / "checkpoint", {"--messages", write_in("messages-url", "m.json",
                         R"([{"role": "user", "content": [{"type": "image", "url": "https://example.com/cat.png"}]}])").string()});
       }, 1, {"m.json", "https://example.com/cat.png", "never downloads"}},
      {"a messages file that does not exist", [] {
         return run_args(fixture_dir() / "checkpoint", {"--messages", (scratch("messages-absent") / "absent.json").string()});
       }, 1, {"absent.json"}},
      // ---- limits ----
      {"a prompt longer than the model's context", [] {
         std::string words;
         for (int i = 0; i < 2000; ++i) words += "word ";
         return run_args(fixture_dir() / "checkpoint", {"--prompt", words});
       }, 1, {"tokens", "context"}},
      {"a run beyond the memory budget", [] {
         return run_args(fixture_dir() / "checkpoint", {"--memory-budget", "0.0001", "--image", (fixture_dir() / "inputs" / "image_single.png").string()});
       }, 1, {"memory budget"}},
      // ---- plugins, backends, usage ----
      {"a plugin built for another SDK ABI", [] {
         const fs::path c = checkpoint_copy("wrong-abi");
         edit_json(c / "config.json", [](json& j) { j["model_type"] = "wrong_abi_type"; });
         return run_args(c);
       }, 1, {"wrong_abi_type", "SDK ABI version 999"}},
      {"an unknown device", [] { return run_args(fixture_dir() / "checkpoint", {"--device", "tpu"}); }, 1, {"tpu"}},
      {"an unknown --dtype", [] { return run_args(fixture_dir() / "checkpoint", {"--dtype", "f8"}); }, 2, {"--dtype", "f8"}},
      {"an eval task missing a required field", [] {
         const fs::path task = write_in("eval-field", "task.yaml", "task: broken\ndataset: {path: data.jsonl}\ndoc_to_text: \"{{ q }}\"\n");
         return std::vector<std::string>{"eval", task.string(), "--predictions", task.string(), "--output", scratch("eval-field-out").string()};
       }, 1, {"task.yaml:1", "missing required key 'doc_to_target'"}},
      {"an eval task that is not UTF-8", [] {  // a fuzz finding (fuzz_eval_task): the bytes reached JSON and threw
         const fs::path task = write_in("eval-utf8", "task.yaml", "task: t\n# caf\xe9 in Latin-1\ndataset: {path: d.jsonl}\n");
         return std::vector<std::string>{"eval", task.string(), "--predictions", task.string(), "--output", scratch("eval-utf8-out").string()};
       }, 1, {"task.yaml:2: invalid UTF-8 (byte 0xE9"}},
      {"an eval dataset line that is not JSON", [] {
         const fs::path dir = scratch("eval-line");
         write_file(dir / "data.jsonl", "{\"q\": \"a\", \"a\": \"b\"}\n{\"q\": oops}\n");
         write_file(dir / "task.yaml", "task: t\ndataset: {path: data.jsonl}\ndoc_to_text: \"{{ q }}\"\ndoc_to_target: a\n"
                                       "output_type: generate_until\nmetric_list: [{metric: exact_match}]\n");
         write_file(dir / "p.jsonl", "");
         return std::vector<std::string>{"eval", (dir / "task.yaml").string(), "--predictions", (dir / "p.jsonl").string(),
                                         "--output", (dir / "out").string()};
       }, 1, {"data.jsonl:2", "invalid JSON"}},
  };
  return cases;
}

}  // namespace

TEST_CASE("the bad-input matrix: every case fails with a message naming what and where", "[cli][bad_input][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/qwen2_vl");
  // Named models resolve in an empty Hugging Face cache; the test plugins (one built for another ABI) are found.
  const fs::path empty_cache = vlm::test::temp_dir("bad-input-hf-cache");
  ::setenv("HF_HUB_CACHE", empty_cache.c_str(), 1);
  ::setenv("HF_HOME", empty_cache.c_str(), 1);
  ::setenv("VLM_PLUGIN_PATH", VLM_TEST_PLUGIN_DIR, 1);
  CHECK(bad_cases().size() >= 40);
  for (const Case& c : bad_cases()) {
    DYNAMIC_SECTION(c.name) {
      const auto result = run_vlm(c.args());
      INFO("stderr: " << result.err);
      CHECK(result.exit_code == c.exit_code);
      CHECK(result.out.empty());
      for (const std::string& piece : c.message) CHECK_THAT(result.err, Catch::Contains(piece));
    }
  }
  ::unsetenv("VLM_PLUGIN_PATH");
}

TEST_CASE("unusual but valid images load as PIL loads them", "[cli][bad_input][fixture]") {
  // VipLlava's CLIP processor takes any size (Qwen2-VL refuses sides under 28 pixels, as Hugging Face does).
  VLM_REQUIRE_SHARED(fixture, "fixtures/vipllava");
  for (const char* name : {"animated.gif", "grey16.png", "cmyk.jpg", "rgba.png", "grey_alpha.png", "palette.png",
                           "rgb.webp", "rgb.tif", "grey.pgm"}) {
    DYNAMIC_SECTION(name) {
      const auto result = run_vlm(run_args(fixture / "checkpoint", {"--image", image_seed(name).string()}));
      INFO("stderr: " << result.err);
      CHECK(result.exit_code == 0);
      CHECK_FALSE(result.out.empty());
    }
  }
}
