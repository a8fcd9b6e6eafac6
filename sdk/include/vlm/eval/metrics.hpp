#pragma once
// Evaluation metrics, each a port of what lmms-eval (0.7.3) computes for the same prediction, so a score
// here is the score there (docs/EVAL.md records the comparison). Predictions arrive already filtered; like
// lmms-eval, every metric strips surrounding whitespace from the prediction first.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vlm::eval {

// exact_match (lmms-eval's HF-evaluate port): optional regexes removed from both sides, then optionally
// lower-cased, ASCII punctuation and digits removed; 1 when the prediction equals any target.
struct ExactMatchOptions {
  std::vector<std::string> regexes_to_ignore;
  bool ignore_case = false, ignore_punctuation = false, ignore_numbers = false;
};
double exact_match(std::string_view prediction, std::span<const std::string> targets,
                   const ExactMatchOptions& options = {});

// The VQA answer normalisation as lmms-eval's VQAv2 task applies it (EvalAIAnswerProcessor's
// process_punctuation, then process_digit_article): punctuation removed or spaced, periods not before a
// digit dropped, lower case, number words to digits, articles dropped, contractions restored.
std::string vqa_normalize(std::string_view answer);
// VQA accuracy: for each annotator, min(#other annotators who gave the normalised prediction / 3, 1),
// averaged over the annotators (leave-one-out).
double vqa_accuracy(std::string_view prediction, std::span<const std::string> answers);

// ANLS: 1 - the smallest normalised Levenshtein distance to any answer (case- and space-normalised),
// 0 below `threshold`.
double anls(std::string_view prediction, std::span<const std::string> answers, double threshold = 0.5);
size_t levenshtein(std::u32string_view a, std::u32string_view b);

// ChartQA's relaxed accuracy: numbers (Python float syntax; "x%" is x / 100) within `tolerance` relative
// change of a non-zero target, otherwise a case-insensitive exact match; 1 when any target accepts it.
double relaxed_accuracy(std::string_view prediction, std::span<const std::string> targets, double tolerance = 0.05);
// Python's float(text), or nullopt where it raises ValueError.
std::optional<double> python_float(std::string_view text);

// The option letter a free-form answer picks (lmms-eval's extract_mcq_answer): formats ranked start, end,
// phrase ("the answer is B"), (B), B., B:, B), "B ", then any occurrence; the last occurrence of the best
// format wins. "" when none. `letters` default to A..H.
std::string extract_choice_letter(std::string_view response, std::span<const std::string> letters = {});

// A metric's aggregate over documents: the mean and its standard error (sample standard deviation /
// sqrt(n), as lmms-eval's mean_stderr); no standard error below two documents.
struct Aggregate {
  double value = 0;
  std::optional<double> stderr_value;
  int64_t count = 0;
};
Aggregate mean_with_stderr(std::span<const double> values);

}  // namespace vlm::eval
