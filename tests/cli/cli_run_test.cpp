// `vlm run`, `bench` and `info` end to end: --dtype changes what is computed, stdout carries results only
// (exactly one JSON document with --json), and numeric options outside their range are usage errors.
#include <catch2/catch.hpp>

#include "cli_support.hpp"

namespace {

std::vector<std::string> bf16_single_case(const fs::path& fixture, const fs::path& dump) {
  return {"run", "--model", (fixture / "checkpoint").string(), "--device", "cpu", "--image",
          (fixture / "inputs" / "image_single.png").string(), "--prompt", "Describe this image.", "--greedy",
          "--min-new-tokens", "12", "--max-new-tokens", "12", "--dump", dump.string()};
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& extra) {
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("vlm run --dtype f32 widens a bf16 checkpoint as Hugging Face loads it", "[cli][run][dtype][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/qwen2_vl-bf16");
  const std::string reference = (fixture / "reference.safetensors").string();

  // The fixture's `single` case is HF's default load: bf16 weights upcast to f32. Bar: 1e-4.
  const fs::path f32_dump = vlm::test::temp_dir("cli-dtype-f32");
  const auto f32 = run_vlm(with(bf16_single_case(fixture, f32_dump), {"--dtype", "f32"}));
  INFO(f32.err);
  REQUIRE(f32.exit_code == 0);
  const auto same = run_vlm({"compare", f32_dump.string(), reference, "--prefix", "single.", "--tolerance", "1e-4"});
  INFO(same.out);
  CHECK(same.exit_code == 0);
  CHECK_THAT(same.out, Catch::Contains("logits") && Catch::Contains(" 0 differ"));

  // --dtype auto computes with the stored bf16 weights: close, but not within the f32 bar. If --dtype were
  // ignored, the two runs would agree.
  const fs::path auto_dump = vlm::test::temp_dir("cli-dtype-auto");
  const auto stored = run_vlm(bf16_single_case(fixture, auto_dump));
  REQUIRE(stored.exit_code == 0);
  const auto differs = run_vlm({"compare", auto_dump.string(), reference, "--prefix", "single.", "--tolerance", "1e-4"});
  CHECK(differs.exit_code == 1);
  CHECK_THAT(differs.out, Catch::Contains("logits") && Catch::Contains("DIFFERS"));
}

TEST_CASE("vlm run --json prints exactly one JSON document on stdout, logs on stderr", "[cli][run][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/qwen2_vl");
  const std::vector<std::string> base = {"run", "--model", (fixture / "checkpoint").string(), "--device", "cpu",
                                         "--image", (fixture / "inputs" / "image_single.png").string(), "--prompt",
                                         "Describe this image.", "--greedy", "--max-new-tokens", "4"};
  const auto json = run_vlm(with(base, {"--json"}));
  INFO(json.err);
  REQUIRE(json.exit_code == 0);
  ordered_json document;
  REQUIRE_NOTHROW(document = ordered_json::parse(json.out));  // the whole of stdout, nothing before or after
  CHECK(document["generated_ids"].size() == 4);
  CHECK(document["text"].is_string());
  CHECK(document["timings"]["prefill_ms"].is_number());
  CHECK_THAT(json.err, Catch::Contains("[info] model:") && Catch::Contains("[info] device:"));

  // Without --json, stdout is the generated text and its newline, nothing else.
  const auto text = run_vlm(base);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out == document["text"].get<std::string>() + "\n");
  CHECK_THAT(text.err, Catch::Contains("[info] model:"));
}

TEST_CASE("vlm bench --json prints one JSON object with the speed figures", "[cli][bench][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/qwen2_vl");
  const auto bench = run_vlm({"bench", "--model", (fixture / "checkpoint").string(), "--device", "cpu",
                              "--image-size", "56x56", "--prompt-words", "8", "--new-tokens", "2", "--runs", "1",
                              "--dtype", "bf16", "--kv-dtype", "bf16", "--json"});
  INFO(bench.err);
  REQUIRE(bench.exit_code == 0);
  ordered_json document;
  REQUIRE_NOTHROW(document = ordered_json::parse(bench.out));
  for (const char* key : {"vision_ms", "prefill_tokens_per_s", "decode_tokens_per_s", "sequences"}) {
    INFO(key);
    CHECK(document[key].is_number());
  }
  CHECK(document["dtype"] == "bf16");
  CHECK(document["kv_dtype"] == "bf16");
  // Which matmul path ran and why, the probed peaks, and the decode bound from the bandwidth probe.
  const auto& backend = document["backend"];
  CHECK(backend["matmul_path"].is_string());
  CHECK(!backend["matmul_reason"].get<std::string>().empty());
  CHECK(backend["f32_fma_gflops_per_core"].get<double>() > 0);
  CHECK(backend["read_bandwidth_gbs"].get<double>() > 0);
  CHECK(document["peak_rss_mb"].get<double>() > 0);
  CHECK(document["decode_weight_bytes_per_step"].get<double>() > 0);
  CHECK(document["decode_bound_tokens_per_s"].get<double>() > 0);
  CHECK(document["decode_fraction_of_bound"].is_number());
}

TEST_CASE("vlm bench --no-bandwidth-probe reports no decode bound; --quantize is reported", "[cli][bench][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/qwen2_vl");
  const auto bench = run_vlm({"bench", "--model", (fixture / "checkpoint").string(), "--device", "cpu",
                              "--image-size", "56x56", "--prompt-words", "8", "--new-tokens", "2", "--runs", "1",
                              "--no-bandwidth-probe", "--quantize", "int4", "--quantize-cache", "none", "--json"});
  INFO(bench.err);
  REQUIRE(bench.exit_code == 0);
  ordered_json document;
  REQUIRE_NOTHROW(document = ordered_json::parse(bench.out));
  CHECK(document["decode_tokens_per_s"].is_number());
  CHECK(document["backend"]["matmul_path"].is_string());
  CHECK_FALSE(document["backend"].contains("read_bandwidth_gbs"));
  CHECK_FALSE(document.contains("decode_bound_tokens_per_s"));
  CHECK(document["quantize"] == "int4");
  CHECK(document["backend"]["quantized_kernel"].is_string());
}

TEST_CASE("vlm info --dtype reports the weight memory of that load", "[cli][info][dtype][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/qwen2_vl-bf16");
  const auto info = run_vlm({"info", (fixture / "checkpoint").string(), "--dtype", "f32"});
  INFO(info.err);
  REQUIRE(info.exit_code == 0);
  CHECK_THAT(info.out, Catch::Contains("--dtype f32:"));
  CHECK(info.err.find("[info]") == std::string::npos);
}

TEST_CASE("numeric options outside their range are usage errors naming the range", "[cli][options]") {
  // Refused while parsing, before any model is looked up: the model path need not exist.
  const std::vector<std::string> run = {"run", "--model", "/nonexistent/model", "--prompt", "hi"};
  struct Case {
    std::vector<std::string> extra;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--threads", "-1"}, "--threads must be between 0 and 4096, got -1"},
      {{"--max-new-tokens", "-5"}, "--max-new-tokens must be between 0 and"},
      {{"--top-p", "0"}, "--top-p must be in (0, 1], got 0"},
      {{"--min-p", "1.5"}, "--min-p must be between 0 and 1, got 1.5"},
      {{"--temperature", "-0.1"}, "--temperature must be at least 0, got -0.1"},
      {{"--temperature", "nan"}, "--temperature must be at least 0"},
      {{"--repetition-penalty", "0"}, "--repetition-penalty must be greater than 0"},
      {{"--seed", "-1"}, "--seed must be at least 0, got -1"},
      {{"--stop-id", "-3"}, "--stop-id must be a token id"},
      {{"--video-frames", "0"}, "--video-frames must be between 1 and"},
      {{"--dtype", "f16"}, "--dtype must be auto, f32 or bf16, got 'f16'"},
      {{"--kv-dtype", "f16"}, "--kv-dtype must be f32 or bf16, got 'f16'"},
      {{"--image-splitting", "yes"}, "--image-splitting must be on or off, got 'yes'"},
      {{"--min-pixels", "0"}, "--min-pixels must be at least 1, got 0"},
  };
  for (const auto& c : cases) {
    INFO(c.extra.front() << " " << c.extra.back());
    const auto result = run_vlm(with(run, c.extra));
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    CHECK_THAT(result.err, Catch::Contains(c.message));
  }
  const auto bench = run_vlm({"bench", "--model", "/nonexistent/model", "--runs", "0"});
  CHECK(bench.exit_code == 2);
  CHECK_THAT(bench.err, Catch::Contains("--runs must be between 1 and 1000, got 0"));
}

TEST_CASE("vlm run --image-splitting on gives each image its four crops' tokens too", "[cli][run][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/idefics2");  // its preprocessor_config.json has do_image_splitting false
  const std::vector<std::string> base = {"run", "--model", (fixture / "checkpoint").string(), "--device", "cpu",
                                         "--image", (fixture / "inputs" / "image_single_0.png").string(),
                                         "--prompt", "Describe this image.", "--greedy", "--max-new-tokens", "1",
                                         "--json"};
  size_t prompt_tokens[2] = {0, 0};
  for (const int on : {0, 1}) {
    const auto result = run_vlm(with(base, {"--image-splitting", on ? "on" : "off"}));
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    prompt_tokens[on] = ordered_json::parse(result.out)["prompt_ids"].size();
  }
  const auto dflt = run_vlm(base);
  REQUIRE(dflt.exit_code == 0);
  CHECK(ordered_json::parse(dflt.out)["prompt_ids"].size() == prompt_tokens[0]);
  // `F (I*8 F) x5` instead of `F I*8 F`: four more crops of the checkpoint's 8 resampler latents and a
  // fake-image token each (34 and 70 ids, as in the fixtures idefics2 and idefics2-split).
  CHECK(prompt_tokens[1] == prompt_tokens[0] + 4 * (8 + 1));
}

TEST_CASE("vlm run --quantize int8 caches the quantised weights and maps them the next time", "[cli][run][quantized][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/qwen2_vl");
  const fs::path cache = vlm::test::temp_dir("cli-quantize-cache");
  fs::remove_all(cache);
  const std::vector<std::string> base = {"run", "--model", (fixture / "checkpoint").string(), "--device", "cpu",
                                         "--image", (fixture / "inputs" / "image_single.png").string(), "--prompt",
                                         "Describe this image.", "--greedy", "--max-new-tokens", "6", "--json",
                                         "--quantize", "int8", "--quantize-cache", cache.string()};
  const auto first = run_vlm(base);
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.err, Catch::Contains("int8: quantised 15 matrices") && Catch::Contains("cached in"));
  const auto second = run_vlm(base);
  REQUIRE(second.exit_code == 0);
  CHECK_THAT(second.err, Catch::Contains("int8: 15 matrices") && Catch::Contains("mapped from"));
  CHECK(ordered_json::parse(first.out)["generated_ids"] == ordered_json::parse(second.out)["generated_ids"]);

  // `none` keeps the weights in memory only.
  auto args = base;
  args.back() = "none";
  const auto memory = run_vlm(args);
  REQUIRE(memory.exit_code == 0);
  CHECK_THAT(memory.err, !Catch::Contains("cached in"));

  const auto bad = run_vlm({"run", "--model", (fixture / "checkpoint").string(), "--prompt", "x", "--quantize", "int3"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--quantize must be none, int8 or int4, got 'int3'"));
}

TEST_CASE("vlm run --messages refuses JSON nested deeper than the limit, naming the file", "[cli][run][limits][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/qwen2_vl");
  const fs::path file = vlm::test::temp_dir("cli-deep-messages") / "messages.json";
  write_file(file, std::string(200000, '[') + std::string(200000, ']'));
  const auto result = run_vlm({"run", "--model", (fixture / "checkpoint").string(), "--messages", file.string()});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("messages.json") && Catch::Contains("nested deeper than 256 levels"));
}

TEST_CASE("vlm run --memory-budget refuses a run that needs more working memory, before allocating it", "[cli][run][limits][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/qwen2_vl");
  const std::vector<std::string> args = {"run", "--model", (fixture / "checkpoint").string(), "--image",
                                         (fixture / "inputs" / "image_single.png").string(), "--prompt", "Describe",
                                         "--greedy", "--max-new-tokens", "2"};
  const auto refused = run_vlm(with(args, {"--memory-budget", "0.0001"}));  // ~105 KiB
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.empty());
  CHECK_THAT(refused.err, Catch::Contains("cpu: a [") && Catch::Contains("above the memory budget of 104.9 KiB (--memory-budget)"));
  CHECK(run_vlm(with(args, {"--memory-budget", "1"})).exit_code == 0);

  const auto bad = run_vlm(with(args, {"--memory-budget", "lots"}));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--memory-budget must be auto, 0 or a number of GiB"));
}
