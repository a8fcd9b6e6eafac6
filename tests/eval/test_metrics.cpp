// Every metric against the value lmms-eval 0.7.3's own code gives for the same prediction and targets
// (metric_cases.json, written by scripts/lmms_eval_metric_cases.py from metric_inputs.json).
#include <cmath>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "vlm/eval/metrics.hpp"

using namespace vlm::eval;
using nlohmann::json;

namespace {

json cases() {
  std::ifstream in(std::string(VLM_EVAL_TEST_DATA) + "/metric_cases.json");
  REQUIRE(in);
  return json::parse(in);
}

std::vector<std::string> strings(const json& j, const char* key) {
  return j.contains(key) ? j[key].get<std::vector<std::string>>() : std::vector<std::string>{};
}

}  // namespace

TEST_CASE("metrics equal lmms-eval's on the same predictions", "[eval][metrics]") {
  const json all = cases();
  REQUIRE(all.size() > 50);
  for (const auto& c : all) {
    const std::string metric = c["metric"], prediction = c["prediction"];
    const auto targets = strings(c, "targets");
    INFO(metric << " of " << json(prediction).dump() << " against " << json(targets).dump());
    REQUIRE(c.contains("expected"));
    if (metric == "vqa_normalize") {
      CHECK(vqa_normalize(prediction) == c["expected"].get<std::string>());
    } else if (metric == "extract_choice_letter") {
      const auto letters = strings(c, "letters");
      CHECK(extract_choice_letter(prediction, letters) == c["expected"].get<std::string>());
    } else if (metric == "mean_stderr") {
      const auto values = c["values"].get<std::vector<double>>();
      const Aggregate a = mean_with_stderr(values);
      CHECK(std::abs(a.value - c["expected"][0].get<double>()) < 1e-12);
      REQUIRE(a.stderr_value);
      CHECK(std::abs(*a.stderr_value - c["expected"][1].get<double>()) < 1e-12);
    } else {
      double value = -1;
      if (metric == "exact_match") {
        ExactMatchOptions options;
        if (c.contains("options")) {
          const auto& o = c["options"];
          options.ignore_case = o.value("ignore_case", false);
          options.ignore_punctuation = o.value("ignore_punctuation", false);
          options.ignore_numbers = o.value("ignore_numbers", false);
          options.regexes_to_ignore = strings(o, "regexes_to_ignore");
        }
        value = exact_match(prediction, targets, options);
      } else if (metric == "vqa_accuracy") {
        value = vqa_accuracy(prediction, targets);
      } else if (metric == "anls") {
        value = anls(prediction, targets);
      } else if (metric == "relaxed_accuracy") {
        value = relaxed_accuracy(prediction, targets);
      } else {
        FAIL("unknown metric " << metric);
      }
      CHECK(std::abs(value - c["expected"].get<double>()) < 1e-12);
    }
  }
}

TEST_CASE("python_float accepts what Python's float() accepts", "[eval][metrics]") {
  CHECK(python_float(" 1_000.5 ") == 1000.5);
  CHECK(python_float("-2e-3") == -0.002);
  CHECK(python_float("+.5") == 0.5);
  CHECK(python_float("5.") == 5.0);
  CHECK(std::isinf(*python_float("-Infinity")));
  CHECK(std::isnan(*python_float("nan")));
  CHECK(python_float("1e400") == HUGE_VAL);
  for (const char* bad : {"", ".", "1__0", "_1", "1_", "0x10", "1,000", "e5", "1e", "5%", "--1", "1 2"}) {
    INFO(bad);
    CHECK_FALSE(python_float(bad));
  }
}

TEST_CASE("aggregates: no standard error for fewer than two documents", "[eval][metrics]") {
  CHECK(mean_with_stderr(std::vector<double>{}).count == 0);
  const Aggregate one = mean_with_stderr(std::vector<double>{0.5});
  CHECK(one.value == 0.5);
  CHECK_FALSE(one.stderr_value);
  CHECK(levenshtein(U"kitten", U"sitting") == 3);
  CHECK(levenshtein(U"", U"abc") == 3);
}
