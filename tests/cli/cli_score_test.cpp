// `vlm score`, `vlm retrieve` and `vlm fill-mask` end to end on the BridgeTower fixture: the numbers Hugging Face gave
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

TEST_CASE("vlm retrieve ranks both ways with the scores vlm score gives each pair", "[cli][retrieve][fixture]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/bridgetower");
  const auto dir = vlm::test::temp_dir("cli-retrieve");
  const std::vector<std::string> texts = {"a photo of a cat", "two dogs on the grass", "a red square"};
  write_file(dir / "texts.txt", texts[0] + "\n\n" + texts[1] + "\r\n" + texts[2]);  // blank line, CRLF, no final newline
  const std::string model = (fixture / "checkpoint").string(), folder = (fixture / "inputs").string();
  for (const std::string by : {"itm", "itc"}) {
    INFO(by);
    const auto dump = dir / ("dump-" + by);
    const auto result = run_vlm({"retrieve", "--model", model, "--images", folder, "--texts", (dir / "texts.txt").string(),
                                 "--by", by, "--top-k", "2", "--batch-size", "2", "--json", "--dump", dump.string()});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    ordered_json doc;
    REQUIRE_NOTHROW(doc = ordered_json::parse(result.out));
    REQUIRE(doc["images"].size() == 2);  // image_main.png, image_mlm.png
    REQUIRE(doc["texts"].size() == 3);
    CHECK(doc["texts"][1]["line"] == 3);
    CHECK(doc["texts"][1]["text"] == texts[1]);
    REQUIRE(doc["texts_for_image"].size() == 2);
    CHECK(doc["texts_for_image"][0]["top"].size() == 2);
    REQUIRE(doc["images_for_text"].size() == 3);
    CHECK(doc["images_for_text"][0]["top"].size() == 2);
    CHECK(fs::exists(dump / "tensors.safetensors"));
    // Each image's scores are what `vlm score` gives the same pairs.
    for (size_t i = 0; i < 2; ++i) {
      std::vector<std::string> args = {"score", "--model", model, "--image", doc["images"][i].get<std::string>(), "--json",
                                       "--task", by == "itm" ? "itm" : "contrastive"};
      for (const auto& t : texts) args.insert(args.end(), {"--text", t});
      const auto direct = run_vlm(args);
      REQUIRE(direct.exit_code == 0);
      const auto scored = ordered_json::parse(direct.out);
      for (size_t t = 0; t < 3; ++t) {
        const double expected = by == "itm" ? scored["rows"][t]["match_prob"].get<double>()
                                            : scored["logits_text_to_image"][t][t].get<double>();
        CHECK(std::abs(doc["scores"][i][t].get<double>() - expected) < 1e-4);
      }
    }
    // The best text of each image has the highest score of its row.
    for (size_t i = 0; i < 2; ++i) {
      const auto& row = doc["scores"][i];
      const double best = doc["texts_for_image"][i]["top"][0]["score"].get<double>();
      for (const auto& v : row) CHECK(v.get<double>() <= best);
    }
  }
  const auto text = run_vlm({"retrieve", "--model", model, "--images", (fixture / "inputs" / "image_main.png").string(),
                             "--texts", (dir / "texts.txt").string(), "--top-k", "1"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::StartsWith("# texts for each image"));
  CHECK(std::count(text.out.begin(), text.out.end(), '\n') == 2 + 2 + 3 * 2);  // headers, 1 image, 3 texts
}

TEST_CASE("vlm retrieve refuses bad inputs before loading the model", "[cli][retrieve]") {
  VLM_REQUIRE_SHARED(fixture, "fixtures/bridgetower");
  const auto dir = vlm::test::temp_dir("cli-retrieve-bad");
  write_file(dir / "texts.txt", "one\ntwo\n");
  write_file(dir / "blank.txt", "\n  \n\t\n");
  fs::create_directories(dir / "empty");
  const std::string model = (fixture / "checkpoint").string(), image = (fixture / "inputs" / "image_main.png").string();
  const std::string texts = (dir / "texts.txt").string();
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"--images", (dir / "missing.png").string(), "--texts", texts}, "missing.png: no such image file"},
      {{"--images", (dir / "empty").string(), "--texts", texts}, "no image files"},
      {{"--images", image, (dir / "empty").string(), "--texts", texts}, "a folder among several --images"},
      {{"--images", image, "--texts", (dir / "blank.txt").string()}, "no text (one text per line)"},
      {{"--images", image, "--texts", (dir / "nope.txt").string()}, "nope.txt: no such file"},
      {{"--images", image, "--texts", dir.string()}, "not a regular file"},
      {{"--images", image, "--texts", "/dev/zero"}, "not a regular file"},
      {{"--images", image, "--texts", texts, "--by", "mlm"}, "--by must be itm or itc, got 'mlm'"},
      {{"--images", image, "--texts", texts, "--top-k", "0"}, "--top-k must be between 1"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"retrieve", "--model", model};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const auto result = run_vlm(args);
    INFO(c.message);
    CHECK(result.exit_code != 0);
    CHECK(result.out.empty());
    CHECK_THAT(result.err, Catch::Contains(c.message));
  }
  const auto corrupt = dir / "corrupt.png";
  write_file(corrupt, "not a png");
  const auto bad_image = run_vlm({"retrieve", "--model", model, "--images", image, corrupt.string(), "--texts", texts});
  CHECK(bad_image.exit_code != 0);
  CHECK_THAT(bad_image.err, Catch::Contains("corrupt.png"));
  VLM_REQUIRE_SHARED(qwen, "fixtures/qwen2_vl");
  const auto generative = run_vlm({"retrieve", "--model", (qwen / "checkpoint").string(), "--images", image, "--texts", texts});
  CHECK(generative.exit_code != 0);
  CHECK_THAT(generative.err, Catch::Contains("no scoring heads"));
}
