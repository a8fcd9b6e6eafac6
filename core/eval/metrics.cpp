#include "vlm/eval/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <numeric>

#include "../text/jinja_unicode.hpp"
#include "../text/regex.hpp"

namespace vlm::eval {

namespace uni = jinja::unicode;

namespace {

std::string strip(std::string_view s) { return uni::strip(s, true, true); }

// Python's str.split(): runs of whitespace separate, no empty pieces.
std::vector<std::string> split_whitespace(std::string_view s) {
  std::vector<std::string> words;
  std::u32string word;
  for (const char32_t c : uni::decode(s)) {
    if (uni::is_space(c)) {
      if (!word.empty()) words.push_back(uni::encode(word));
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) words.push_back(uni::encode(word));
  return words;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out.push_back(' ');
    out += words[i];
  }
  return out;
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  size_t at = 0;
  for (size_t pos = text.find(from); !from.empty() && pos != std::string_view::npos; pos = text.find(from, at)) {
    out.append(text.substr(at, pos - at)).append(to);
    at = pos + from.size();
  }
  out.append(text.substr(at));
  return out;
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// --- VQA normalisation (EvalAIAnswerProcessor) ---

const std::vector<std::string>& punctuation_marks() {
  static const std::vector<std::string> marks = {";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+",
                                                 "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"};
  return marks;
}

const std::map<std::string, std::string, std::less<>>& number_words() {
  static const std::map<std::string, std::string, std::less<>> m = {
      {"none", "0"}, {"zero", "0"}, {"one", "1"}, {"two", "2"},   {"three", "3"}, {"four", "4"},
      {"five", "5"}, {"six", "6"},  {"seven", "7"}, {"eight", "8"}, {"nine", "9"},  {"ten", "10"}};
  return m;
}

// The contraction table of the VQA evaluation, as EvalAIAnswerProcessor has it (its mixed-case keys
// never match the lower-cased words, and "somebody'd" maps to "somebodyd": kept, to score the same).
const std::map<std::string, std::string, std::less<>>& contractions() {
  static const std::map<std::string, std::string, std::less<>> m = {
      {"aint", "ain't"}, {"arent", "aren't"}, {"cant", "can't"}, {"couldve", "could've"}, {"couldnt", "couldn't"},
      {"couldn'tve", "couldn't've"}, {"couldnt've", "couldn't've"}, {"didnt", "didn't"}, {"doesnt", "doesn't"},
      {"dont", "don't"}, {"hadnt", "hadn't"}, {"hadnt've", "hadn't've"}, {"hadn'tve", "hadn't've"},
      {"hasnt", "hasn't"}, {"havent", "haven't"}, {"hed", "he'd"}, {"hed've", "he'd've"}, {"he'dve", "he'd've"},
      {"hes", "he's"}, {"howd", "how'd"}, {"howll", "how'll"}, {"hows", "how's"}, {"Id've", "I'd've"},
      {"I'dve", "I'd've"}, {"Im", "I'm"}, {"Ive", "I've"}, {"isnt", "isn't"}, {"itd", "it'd"},
      {"itd've", "it'd've"}, {"it'dve", "it'd've"}, {"itll", "it'll"}, {"let's", "let's"}, {"maam", "ma'am"},
      {"mightnt", "mightn't"}, {"mightnt've", "mightn't've"}, {"mightn'tve", "mightn't've"},
      {"mightve", "might've"}, {"mustnt", "mustn't"}, {"mustve", "must've"}, {"neednt", "needn't"},
      {"notve", "not've"}, {"oclock", "o'clock"}, {"oughtnt", "oughtn't"}, {"ow's'at", "'ow's'at"},
      {"'ows'at", "'ow's'at"}, {"'ow'sat", "'ow's'at"}, {"shant", "shan't"}, {"shed've", "she'd've"},
      {"she'dve", "she'd've"}, {"she's", "she's"}, {"shouldve", "should've"}, {"shouldnt", "shouldn't"},
      {"shouldnt've", "shouldn't've"}, {"shouldn'tve", "shouldn't've"}, {"somebody'd", "somebodyd"},
      {"somebodyd've", "somebody'd've"}, {"somebody'dve", "somebody'd've"}, {"somebodyll", "somebody'll"},
      {"somebodys", "somebody's"}, {"someoned", "someone'd"}, {"someoned've", "someone'd've"},
      {"someone'dve", "someone'd've"}, {"someonell", "someone'll"}, {"someones", "someone's"},
      {"somethingd", "something'd"}, {"somethingd've", "something'd've"}, {"something'dve", "something'd've"},
      {"somethingll", "something'll"}, {"thats", "that's"}, {"thered", "there'd"}, {"thered've", "there'd've"},
      {"there'dve", "there'd've"}, {"therere", "there're"}, {"theres", "there's"}, {"theyd", "they'd"},
      {"theyd've", "they'd've"}, {"they'dve", "they'd've"}, {"theyll", "they'll"}, {"theyre", "they're"},
      {"theyve", "they've"}, {"twas", "'twas"}, {"wasnt", "wasn't"}, {"wed've", "we'd've"},
      {"we'dve", "we'd've"}, {"weve", "we've"}, {"werent", "weren't"}, {"whatll", "what'll"},
      {"whatre", "what're"}, {"whats", "what's"}, {"whatve", "what've"}, {"whens", "when's"},
      {"whered", "where'd"}, {"wheres", "where's"}, {"whereve", "where've"}, {"whod", "who'd"},
      {"whod've", "who'd've"}, {"who'dve", "who'd've"}, {"wholl", "who'll"}, {"whos", "who's"},
      {"whove", "who've"}, {"whyll", "why'll"}, {"whyre", "why're"}, {"whys", "why's"}, {"wont", "won't"},
      {"wouldve", "would've"}, {"wouldnt", "wouldn't"}, {"wouldnt've", "wouldn't've"},
      {"wouldn'tve", "wouldn't've"}, {"yall", "y'all"}, {"yall'll", "y'all'll"}, {"y'allll", "y'all'll"},
      {"yall'd've", "y'all'd've"}, {"y'alld've", "y'all'd've"}, {"y'all'dve", "y'all'd've"}, {"youd", "you'd"},
      {"youd've", "you'd've"}, {"you'dve", "you'd've"}, {"youll", "you'll"}, {"youre", "you're"},
      {"youve", "you've"}};
  return m;
}

// COMMA_STRIP's search: a digit, one or more commas, a digit.
bool has_digit_comma_digit(std::string_view text) {
  const std::u32string t = uni::decode(text);
  for (size_t i = 1; i + 1 < t.size(); ++i) {
    if (t[i] != U',' || !uni::is_digit(t[i - 1])) continue;
    size_t j = i;
    while (j < t.size() && t[j] == U',') ++j;
    if (j < t.size() && uni::is_digit(t[j])) return true;
  }
  return false;
}

std::string process_punctuation(const std::string& in) {
  std::string out = in;
  const bool digit_commas = has_digit_comma_digit(in);
  for (const auto& p : punctuation_marks()) {
    if (contains(in, p + " ") || contains(in, " " + p) || digit_commas) out = replace_all(out, p, "");
    else out = replace_all(out, p, " ");
  }
  // PERIOD_STRIP.sub("", out, re.UNICODE): a period not followed by a digit goes; re.UNICODE lands in
  // sub's `count` argument, so at most 32 of them.
  const std::u32string t = uni::decode(out);
  std::u32string kept;
  int removed = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == U'.' && removed < 32 && !(i + 1 < t.size() && uni::is_digit(t[i + 1]))) {
      ++removed;
      continue;
    }
    kept.push_back(t[i]);
  }
  return uni::encode(kept);
}

std::string process_digit_article(const std::string& in) {
  std::vector<std::string> words;
  for (std::string word : split_whitespace(uni::lower(in))) {
    if (auto it = number_words().find(word); it != number_words().end()) word = it->second;
    if (word != "a" && word != "an" && word != "the") words.push_back(word);
  }
  for (auto& word : words)
    if (auto it = contractions().find(word); it != contractions().end()) word = it->second;
  return join(words);
}

// answer.replace("\n", " ").replace("\t", " ").strip()
std::string flatten(std::string_view s) { return strip(replace_all(replace_all(s, "\n", " "), "\t", " ")); }

std::string remove_matches(const text_detail::Regex& regex, const std::string& text) {
  std::vector<text_detail::MatchRange> matches;
  regex.find_all(text, matches);
  std::string out;
  size_t at = 0;
  for (const auto& m : matches) {
    out.append(text, at, m.start - at);
    at = m.end;
  }
  out.append(text, at, std::string::npos);
  return out;
}

std::string erase_if_ascii(std::string text, bool (*pred)(char)) {
  text.erase(std::remove_if(text.begin(), text.end(), pred), text.end());
  return text;
}

bool is_ascii_punctuation(char c) {  // Python's string.punctuation
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

double exact_match(std::string_view prediction, std::span<const std::string> targets, const ExactMatchOptions& options) {
  std::vector<text_detail::Regex> regexes;
  for (const auto& r : options.regexes_to_ignore) regexes.emplace_back(r);
  auto prepare = [&](std::string text) {
    for (const auto& r : regexes) text = remove_matches(r, text);
    if (options.ignore_case) text = uni::lower(text);
    if (options.ignore_punctuation) text = erase_if_ascii(text, is_ascii_punctuation);
    if (options.ignore_numbers) text = erase_if_ascii(text, is_ascii_digit);
    return text;
  };
  const std::string p = prepare(strip(prediction));
  for (const auto& t : targets)
    if (prepare(t) == p) return 1.0;
  return 0.0;
}

std::string vqa_normalize(std::string_view answer) { return process_digit_article(process_punctuation(flatten(answer))); }

double vqa_accuracy(std::string_view prediction, std::span<const std::string> answers) {
  if (answers.empty()) return 0.0;
  const std::string p = vqa_normalize(strip(prediction));
  std::vector<std::string> normalised;
  for (const auto& a : answers) normalised.push_back(vqa_normalize(a));
  double total = 0;
  for (size_t i = 0; i < normalised.size(); ++i) {
    int64_t matching = 0;
    for (size_t j = 0; j < normalised.size(); ++j)
      if (j != i && normalised[j] == p) ++matching;
    total += std::min(1.0, double(matching) / 3.0);
  }
  return total / double(normalised.size());
}

size_t levenshtein(std::u32string_view a, std::u32string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  std::vector<size_t> row(a.size() + 1), next(a.size() + 1);
  std::iota(row.begin(), row.end(), size_t(0));
  for (size_t j = 0; j < b.size(); ++j) {
    next[0] = j + 1;
    for (size_t i = 0; i < a.size(); ++i)
      next[i + 1] = a[i] == b[j] ? row[i] : 1 + std::min({row[i], row[i + 1], next[i]});
    std::swap(row, next);
  }
  return row[a.size()];
}

double anls(std::string_view prediction, std::span<const std::string> answers, double threshold) {
  if (answers.empty()) return 0.0;
  const std::string pred = strip(prediction);
  const std::u32string det = uni::decode(join(split_whitespace(uni::lower(strip(pred)))));
  double best = 1.0;  // the smallest normalised distance
  for (const auto& answer : answers) {
    const std::u32string gt = uni::decode(join(split_whitespace(uni::lower(strip(answer)))));
    const size_t length = std::max(uni::length(uni::upper(answer)), uni::length(uni::upper(pred)));
    const double value = length == 0 ? 0.0 : double(levenshtein(gt, det)) / double(length);
    best = std::min(best, value);
  }
  const double result = 1.0 - best;
  return result < threshold ? 0.0 : result;
}

std::optional<double> python_float(std::string_view text) {
  const std::string s = strip(text);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::string rest = uni::lower(s.substr(i));
  if (rest == "inf" || rest == "infinity") return negative ? -HUGE_VAL : HUGE_VAL;
  if (rest == "nan") return std::nan("");
  // digits with single underscores between them; mantissa with an optional point; optional exponent.
  std::string clean;
  size_t k = 0;
  auto digits = [&]() {
    size_t count = 0;
    while (k < rest.size()) {
      if (is_ascii_digit(rest[k])) {
        clean.push_back(rest[k++]);
        ++count;
      } else if (rest[k] == '_' && count > 0 && k + 1 < rest.size() && is_ascii_digit(rest[k + 1])) {
        ++k;
      } else {
        break;
      }
    }
    return count;
  };
  size_t mantissa = digits();
  if (k < rest.size() && rest[k] == '.') {
    clean.push_back(rest[k++]);
    mantissa += digits();
  }
  if (mantissa == 0) return std::nullopt;
  if (k < rest.size() && rest[k] == 'e') {
    clean.push_back(rest[k++]);
    if (k < rest.size() && (rest[k] == '+' || rest[k] == '-')) clean.push_back(rest[k++]);
    if (digits() == 0) return std::nullopt;
  }
  if (k != rest.size()) return std::nullopt;
  double value = 0;
  const auto [end, error] = std::from_chars(clean.data(), clean.data() + clean.size(), value);
  if (error == std::errc::result_out_of_range) value = clean.find("e-") != std::string::npos ? 0.0 : HUGE_VAL;  // as Python
  else if (error != std::errc() || end != clean.data() + clean.size()) return std::nullopt;
  return negative ? -value : value;
}

double relaxed_accuracy(std::string_view prediction, std::span<const std::string> targets, double tolerance) {
  const std::string pred = strip(prediction);
  auto to_float = [](const std::string& text) -> std::optional<double> {
    if (!text.empty() && text.back() == '%') {
      const size_t end = text.find_last_not_of('%');
      const auto v = python_float(end == std::string::npos ? "" : text.substr(0, end + 1));
      if (!v) return std::nullopt;
      return *v / 100.0;
    }
    return python_float(text);
  };
  const auto p = to_float(pred);
  for (const auto& target : targets) {
    const auto t = to_float(target);
    bool correct;
    if (p && t && *t != 0.0) correct = std::abs(*p - *t) / std::abs(*t) <= tolerance;  // NaN: false
    else correct = uni::lower(pred) == uni::lower(target);
    if (correct) return 1.0;
  }
  return 0.0;
}

std::string extract_choice_letter(std::string_view response, std::span<const std::string> letters) {
  static const std::vector<std::string> kDefault = {"A", "B", "C", "D", "E", "F", "G", "H"};
  static const std::vector<std::string> kPhrases = {
      "the answer is", "answer is", "the correct answer is", "correct answer is", "the best answer is",
      "best answer is", "the correct option is", "correct option is", "the best option is", "best option is",
      "the choice is", "choice is", "the correct choice is", "correct choice is", "i choose", "i select",
      "i pick", "my answer is", "my choice is", "옵션", "정답은", "답은", "답:", "答案是", "答案为", "选",
      "答えは"};
  const std::span<const std::string> choices = letters.empty() ? std::span<const std::string>(kDefault) : letters;
  std::string text = strip(response);
  if (text.empty()) return "";
  for (const char32_t c : std::u32string(U",.!?;:'\"")) {
    const std::u32string one(1, c);
    text = uni::strip(text, true, true, &one);
  }
  text = " " + text + " ";
  struct Candidate {
    std::string letter;
    size_t position;
    int priority;
  };
  std::vector<Candidate> candidates;
  auto last = [&](const std::string& choice, const std::string& pattern, int priority) {
    if (const size_t at = text.rfind(pattern); at != std::string::npos) candidates.push_back({choice, at, priority});
  };
  for (const auto& ch : choices) last(ch, "(" + ch + ")", 6);
  for (const auto& ch : choices) last(ch, ch + ".", 5);
  for (const auto& ch : choices) last(ch, ch + ":", 4);
  for (const auto& ch : choices) last(ch, ch + ")", 3);
  for (const auto& ch : choices) last(ch, ch + " ", 2);
  const std::string lowered = uni::lower(text);
  for (const auto& phrase : kPhrases) {
    const size_t at = lowered.find(phrase);
    if (at == std::string::npos) continue;
    for (const auto& ch : choices)
      if (const size_t pos = text.find(ch, at + phrase.size()); pos != std::string::npos)
        candidates.push_back({ch, pos, 7});
  }
  const std::u32string stripped = uni::decode(strip(text));
  for (const auto& ch : choices) {
    const std::u32string c = uni::decode(ch);
    if (stripped.size() >= c.size() && stripped.compare(0, c.size(), c) == 0 &&
        (stripped.size() == 1 || !uni::is_alpha(stripped[1])))
      candidates.push_back({ch, 0, 10});
  }
  for (const auto& ch : choices) {
    const std::u32string c = uni::decode(ch);
    if (stripped.size() >= c.size() && stripped.compare(stripped.size() - c.size(), c.size(), c) == 0 &&
        (stripped.size() == 1 || !uni::is_alpha(stripped[stripped.size() - 2])))
      candidates.push_back({ch, text.size() - 1, 9});
  }
  if (candidates.empty())
    for (const auto& ch : choices) last(ch, ch, 0);
  if (candidates.empty()) return "";
  // Highest priority, then the latest position; Python's stable sort keeps the first of equal keys.
  std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.priority != b.priority ? a.priority > b.priority : a.position > b.position;
  });
  return candidates[0].letter;
}

Aggregate mean_with_stderr(std::span<const double> values) {
  Aggregate a;
  a.count = int64_t(values.size());
  if (values.empty()) return a;
  a.value = std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
  if (values.size() >= 2) {
    double squares = 0;
    for (const double v : values) squares += (v - a.value) * (v - a.value);
    a.stderr_value = std::sqrt(squares / double(values.size() - 1)) / std::sqrt(double(values.size()));
  }
  return a;
}

}  // namespace vlm::eval
