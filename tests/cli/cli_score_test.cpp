// `vlm score` and `vlm fill-mask` end to end on the BridgeTower fixture: the numbers Hugging Face gave
// (reference.json's cases), one JSON document on stdout with --json, the fixture's tensor names in --dump,
// and clear errors for what a scorer cannot do.
#include <algorithm>
#include <cmath>

#include <catch2/catch.hpp>

#include "cli_support.hpp"

TEST_CASE("vlm score --task itm prints Hugging Face's match probability", "[cli][score][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/bridgetower");
  const auto reference = ordered_json::parse(read_file(fixture / "reference.json"));
  const auto& itm = reference["cases"]["itm"];
  const auto dump = vlm::test::temp_dir("cli-score") / "dump";
  const auto result = run_vlm({"score", "--model", (fixture / "checkpoint").string(), "--image",
                               (fixture / "inputs" / "image_main.png").string(), "--text",
                               itm["texts"][0].get<std::string>(), "--json", "--dump", dump.string()});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  ordered_json document;
  REQUIRE_NOTHROW(document = ordered_json::parse(result.out));
  REQUIRE(document["rows"].size() == 1);
  CHECK(std::abs(document["rows"][0]["match_prob"].get<double>() - itm["match_prob"][0].get<double>()) < 1e-4);
  for (int i = 0; i < 2; ++i)
    CHECK(std::abs(document["rows"][0]["itm_logits"][i].get<double>() - itm["logits"][0][i].get<double>()) < 1e-4);
  CHECK(fs::exists(dump / "tensors.safetensors"));

  const auto text = run_vlm({"score", "--model", (fixture / "checkpoint").string(), "--image",
                             (fixture / "inputs" / "image_main.png").string(), "--text", "one", "--text", "two"});
  REQUIRE(text.exit_code == 0);
  CHECK(std::count(text.out.begin(), text.out.end(), '\n') == 2);  // one line per text, logs on stderr
}

TEST_CASE("vlm score --task contrastive prints the embeddings and similarity matrices", "[cli][score][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/bridgetower");
  const auto reference = ordered_json::parse(read_file(fixture / "reference.json"));
  const auto& texts = reference["cases"]["contrastive"]["texts"];
  const auto result = run_vlm({"score", "--model", (fixture / "checkpoint").string(), "--image",
                               (fixture / "inputs" / "image_main.png").string(), "--text", texts[0].get<std::string>(),
                               "--text", texts[1].get<std::string>(), "--task", "contrastive", "--json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto document = ordered_json::parse(result.out);
  for (const char* key : {"text_embeds", "image_embeds", "cross_embeds"}) CHECK(document[key].size() == 2);
  CHECK(document["logits_text_to_image"].size() == 2);
  CHECK(document["logits_text_to_image"][0].size() == 2);
}

TEST_CASE("vlm fill-mask fills each mask with Hugging Face's best token", "[cli][fill-mask][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/bridgetower");
  const auto reference = ordered_json::parse(read_file(fixture / "reference.json"));
  const auto& mlm = reference["cases"]["mlm"];
  const auto result = run_vlm({"fill-mask", "--model", (fixture / "checkpoint").string(), "--image",
                               (fixture / "inputs" / "image_mlm.png").string(), "--text",
                               mlm["texts"][0].get<std::string>(), "--top-k", "3", "--json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto document = ordered_json::parse(result.out);
  REQUIRE(document["masks"].size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(document["masks"][i]["position"] == mlm["mask_positions"][i]);
    CHECK(document["masks"][i]["candidates"].size() == 3);
    CHECK(document["masks"][i]["candidates"][0]["token_id"] == mlm["mask_fill_ids"][i]);
  }
  CHECK(document["filled_text"].is_string());
}

TEST_CASE("scoring commands refuse what they cannot do, clearly", "[cli][score]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/bridgetower");
  const auto bad_task = run_vlm({"score", "--model", (fixture / "checkpoint").string(), "--image",
                                 (fixture / "inputs" / "image_main.png").string(), "--text", "x", "--task", "mlm"});
  CHECK(bad_task.exit_code == 2);
  CHECK_THAT(bad_task.err, Catch::Contains("--task must be itm or contrastive, got 'mlm'"));
  const auto no_mask = run_vlm({"fill-mask", "--model", (fixture / "checkpoint").string(), "--image",
                                (fixture / "inputs" / "image_mlm.png").string(), "--text", "no mask here"});
  CHECK(no_mask.exit_code != 0);
  CHECK(no_mask.out.empty());
  CHECK_THAT(no_mask.err, Catch::Contains("has no mask token"));
  VLM_REQUIRE_SHARED(qwen, "fixtures/qwen2_vl");
  const auto generative = run_vlm({"score", "--model", (qwen / "checkpoint").string(), "--image",
                                   (qwen / "inputs" / "image_single.png").string(), "--text", "x"});
  CHECK(generative.exit_code != 0);
  CHECK_THAT(generative.err, Catch::Contains("no scoring heads"));
}
