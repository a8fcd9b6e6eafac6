#include <catch2/catch.hpp>

#include "vlm/io/config.hpp"

using namespace vlm;

TEST_CASE("config views read typed values with defaults and nested sub-configs", "[io][config]") {
  const auto view = ConfigView::parse(R"({"hidden_size": 64, "eps": 1e-6, "name": "x", "flag": true,
      "vision_config": {"depth": 2}, "nothing": null})", "config.json");
  CHECK(view.get<int64_t>("hidden_size") == 64);
  CHECK(view.get<double>("eps") == Approx(1e-6));
  CHECK(view.get<double>("hidden_size") == 64.0);  // an integer is a valid float
  CHECK(view.get_or<int64_t>("absent", 7) == 7);
  CHECK(view.get_or<int64_t>("nothing", 9) == 9);  // null means "use the default", as in HF
  CHECK(view.child("vision_config").get<int64_t>("depth") == 2);
  CHECK(view.child("vision_config").get_or<int64_t>("embed_dim", 1280) == 1280);
  CHECK(view.child("text_config").get_or<int64_t>("x", 3) == 3);  // absent sub-config: class defaults
  CHECK(view.get_any_or<std::string>({"type", "name"}, "?") == "x");
}

TEST_CASE("config errors name the file and the key path", "[io][config]") {
  const auto view = ConfigView::parse(R"({"hidden_size": "64", "vision_config": {"depth": 2.5}, "v": 3})", "config.json");
  CHECK_THROWS_WITH(view.get<int64_t>("hidden_size"), Catch::Contains("config.json: hidden_size: expected an integer"));
  CHECK_THROWS_WITH(view.child("vision_config").get<int64_t>("depth"),
                    Catch::Contains("config.json: vision_config.depth: expected an integer"));
  CHECK_THROWS_WITH(view.get<int64_t>("absent"), Catch::Contains("config.json: absent: missing required key"));
  CHECK_THROWS_WITH(view.child("v"), Catch::Contains("expected an object"));
  CHECK_THROWS_WITH(ConfigView::parse("{\n  \"a\": 1,\n  oops\n}", "config.json"), Catch::Contains("config.json:3:"));
  CHECK_THROWS_WITH(ConfigView::parse("[1, 2]", "config.json"), Catch::Contains("top level"));
}

TEST_CASE("JSON nested deeper than the limit is an error naming the source and line, not a stack overflow", "[io][config][limits]") {
  const auto nested = [](int levels) { return std::string(size_t(levels), '[') + std::string(size_t(levels), ']'); };
  CHECK_NOTHROW(check_json_depth(nested(kMaxJsonDepth), "x.json"));
  CHECK_THROWS_WITH(check_json_depth(nested(kMaxJsonDepth + 1), "x.json"),
                    Catch::Contains("x.json") && Catch::Contains("nested deeper than 256 levels"));
  // Brackets inside strings, escaped quotes included, are text.
  CHECK_NOTHROW(check_json_depth("[\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"]", "s.json"));
  CHECK_THROWS_WITH(check_json_depth("{\n\"a\":\n" + nested(300) + "}", "l.json"), Catch::Contains("(line 3)"));
  // A config.json nested a million levels deep.
  const std::string deep = "{\"text_config\": " + nested(1000000) + "}";
  CHECK_THROWS_WITH(ConfigView::parse(deep, "config.json"), Catch::Contains("config.json") && Catch::Contains("nested deeper"));
}
