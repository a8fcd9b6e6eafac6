#include "vlm/eval/task.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "../text/jinja_unicode.hpp"
#include "../text/regex.hpp"
#include "../text/utf8.hpp"
#include "vlm/image/load.hpp"
#include "vlm/io/yaml.hpp"
#include "vlm/util/error.hpp"

namespace vlm::eval {

namespace fs = std::filesystem;

namespace {

std::string fnv1a_hex(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Checks `object`'s keys against `known`; an unknown key is an Error at its line.
void known_keys(const YamlDocument& y, const std::string& pointer, const OrderedJson& object,
                std::initializer_list<const char*> known) {
  for (const auto& item : object.items()) {
    const std::string& key = item.key();  // a plain reference: clang 14 cannot capture structured bindings
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; }))
      fail("{}: unknown key '{}' (known here: {})", y.where(pointer + "/" + key), key, fmt::join(known, ", "));
  }
}

std::string string_at(const YamlDocument& y, const OrderedJson& parent, const std::string& pointer, const char* key,
                      bool required) {
  if (!parent.contains(key) || parent[key].is_null()) {
    if (required) fail("{}: missing required key '{}'", y.where(pointer), key);
    return {};
  }
  if (!parent[key].is_string()) fail("{}: '{}' must be a string", y.where(pointer + "/" + key), key);
  return parent[key].get<std::string>();
}

std::vector<std::string> strings_at(const YamlDocument& y, const OrderedJson& value, const std::string& pointer) {
  if (value.is_null()) return {};
  if (value.is_string()) return {value.get<std::string>()};
  if (!value.is_array()) fail("{}: expected a string or a list of strings", y.where(pointer));
  std::vector<std::string> out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) fail("{}: expected a string", y.where(pointer + "/" + std::to_string(i)));
    out.push_back(value[i].get<std::string>());
  }
  return out;
}

Filter parse_filter(const YamlDocument& y, const OrderedJson& f, const std::string& pointer) {
  Filter filter;
  if (f.is_string()) {
    const std::string name = f.get<std::string>();
    if (name == "strip") filter.kind = Filter::Kind::Strip;
    else if (name == "first_line") filter.kind = Filter::Kind::FirstLine;
    else if (name == "lowercase") filter.kind = Filter::Kind::Lowercase;
    else fail("{}: unknown filter '{}' (strip, first_line, lowercase, or {{regex: PATTERN}})", y.where(pointer), name);
    return filter;
  }
  if (!f.is_object() || !f.contains("regex"))
    fail("{}: a filter is strip, first_line, lowercase or {{regex: PATTERN, select: N, fallback: TEXT}}", y.where(pointer));
  known_keys(y, pointer, f, {"regex", "select", "fallback"});
  filter.kind = Filter::Kind::Regex;
  filter.pattern = string_at(y, f, pointer, "regex", true);
  try {
    text_detail::Regex check(filter.pattern);
  } catch (const Error& e) {
    fail("{}: {}", y.where(pointer + "/regex"), e.what());
  }
  if (f.contains("select")) {
    if (!f["select"].is_number_integer()) fail("{}: select must be an integer", y.where(pointer + "/select"));
    filter.group = f["select"].get<int>();
  }
  filter.fallback = f.contains("fallback") ? string_at(y, f, pointer, "fallback", false) : "[invalid]";
  return filter;
}

MetricSpec parse_metric(const YamlDocument& y, const OrderedJson& m, const std::string& pointer, OutputType type,
                        bool has_choices) {
  if (!m.is_object()) fail("{}: a metric is {{metric: NAME, ...}}", y.where(pointer));
  known_keys(y, pointer, m,
             {"metric", "aggregation", "higher_is_better", "ignore_case", "ignore_punctuation", "ignore_numbers",
              "regexes_to_ignore", "threshold", "tolerance"});
  MetricSpec spec;
  spec.name = string_at(y, m, pointer, "metric", true);
  static const std::set<std::string> generate = {"exact_match", "vqa_accuracy", "anls", "relaxed_accuracy",
                                                 "multiple_choice_accuracy"};
  if (type == OutputType::MultipleChoice && spec.name != "multiple_choice_accuracy")
    fail("{}: output_type multiple_choice is scored by multiple_choice_accuracy, not '{}'",
         y.where(pointer + "/metric"), spec.name);
  if (!generate.count(spec.name))
    fail("{}: unknown metric '{}' (exact_match, vqa_accuracy, anls, relaxed_accuracy, multiple_choice_accuracy; cider "
         "is not implemented)",
         y.where(pointer + "/metric"), spec.name);
  if (spec.name == "multiple_choice_accuracy" && !has_choices)
    fail("{}: multiple_choice_accuracy needs doc_to_choice (the options the letters stand for)", y.where(pointer));
  if (m.contains("aggregation") && m["aggregation"] != "mean")
    fail("{}: only aggregation: mean is supported", y.where(pointer + "/aggregation"));
  auto flag = [&](const char* key) {
    if (!m.contains(key)) return false;
    if (!m[key].is_boolean()) fail("{}: {} must be true or false", y.where(pointer + "/" + key), key);
    return m[key].get<bool>();
  };
  flag("higher_is_better");
  spec.exact_match.ignore_case = flag("ignore_case");
  spec.exact_match.ignore_punctuation = flag("ignore_punctuation");
  spec.exact_match.ignore_numbers = flag("ignore_numbers");
  if (m.contains("regexes_to_ignore")) {
    spec.exact_match.regexes_to_ignore = strings_at(y, m["regexes_to_ignore"], pointer + "/regexes_to_ignore");
    for (const auto& r : spec.exact_match.regexes_to_ignore) {
      try {
        text_detail::Regex check(r);
      } catch (const Error& e) {
        fail("{}: {}", y.where(pointer + "/regexes_to_ignore"), e.what());
      }
    }
  }
  auto number = [&](const char* key, double& out) {
    if (!m.contains(key)) return;
    if (!m[key].is_number()) fail("{}: {} must be a number", y.where(pointer + "/" + key), key);
    out = m[key].get<double>();
  };
  number("threshold", spec.threshold);
  number("tolerance", spec.tolerance);
  return spec;
}

void check_generation_kwargs(const YamlDocument& y, const OrderedJson& g) {
  if (!g.is_object()) fail("{}: generation_kwargs must be a mapping", y.where("/generation_kwargs"));
  known_keys(y, "/generation_kwargs", g,
             {"max_new_tokens", "temperature", "top_p", "top_k", "do_sample", "until", "num_beams", "repetition_penalty",
              "min_new_tokens", "seed"});
  const std::string p = "/generation_kwargs";
  if (g.contains("max_new_tokens") && (!g["max_new_tokens"].is_number_integer() || g["max_new_tokens"].get<int64_t>() < 1))
    fail("{}: max_new_tokens must be a positive integer", y.where(p + "/max_new_tokens"));
  if (g.contains("temperature") && (!g["temperature"].is_number() || g["temperature"].get<double>() < 0))
    fail("{}: temperature must be a number >= 0", y.where(p + "/temperature"));
  if (g.contains("num_beams") && g["num_beams"] != 1)
    fail("{}: beam search is not supported (num_beams must be 1)", y.where(p + "/num_beams"));
  if (g.contains("until")) strings_at(y, g["until"], p + "/until");
}

}  // namespace

std::vector<std::string> choice_letters(size_t count) {
  std::vector<std::string> letters;
  for (size_t i = 0; i < count && i < 26; ++i) letters.emplace_back(1, char('A' + i));
  return letters;
}

Task load_task(const fs::path& yaml) {
  const YamlDocument y = load_yaml(yaml);
  const OrderedJson& root = y.value;
  if (!root.is_object()) fail("{}: a task file is a mapping (task, dataset, doc_to_text, ...)", yaml.string());
  known_keys(y, "", root,
             {"task", "dataset", "doc_to_visual", "doc_to_text", "doc_to_target", "output_type", "doc_to_choice",
              "generation_kwargs", "filters", "metric_list", "metadata", "description", "retrieval_method"});
  Task task;
  task.file = yaml;
  task.file_hash = fnv1a_hex(read_bytes(yaml));
  task.name = string_at(y, root, "", "task", true);
  if (task.name.empty() || task.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
                               std::string::npos || task.name[0] == '.')
    fail("{}: task '{}' must be letters, digits, '_', '-' or '.' (it names the output folder)", y.where("/task"), task.name);
  if (!root.contains("dataset") || !root["dataset"].is_object())
    fail("{}: dataset must be a mapping {{path: FILE, image_root: FOLDER}}", y.where("/dataset"));
  known_keys(y, "/dataset", root["dataset"], {"path", "image_root"});
  const fs::path base = yaml.parent_path();
  task.dataset = base / string_at(y, root["dataset"], "/dataset", "path", true);
  task.image_root = base / string_at(y, root["dataset"], "/dataset", "image_root", false);
  if (root.contains("doc_to_visual")) task.doc_to_visual = strings_at(y, root["doc_to_visual"], "/doc_to_visual");
  task.doc_to_text_source = string_at(y, root, "", "doc_to_text", true);
  try {
    task.doc_to_text = std::make_shared<ChatTemplate>(ChatTemplate::parse(task.doc_to_text_source, y.where("/doc_to_text")));
  } catch (const Error& e) {
    fail("{}: doc_to_text is not a valid template: {}", y.where("/doc_to_text"), e.what());
  }
  task.doc_to_target = string_at(y, root, "", "doc_to_target", true);
  const std::string type = root.contains("output_type") ? string_at(y, root, "", "output_type", true) : "generate_until";
  if (type == "generate_until") task.output_type = OutputType::GenerateUntil;
  else if (type == "multiple_choice") task.output_type = OutputType::MultipleChoice;
  else fail("{}: output_type '{}' is not generate_until or multiple_choice", y.where("/output_type"), type);
  task.doc_to_choice = string_at(y, root, "", "doc_to_choice", false);
  if (root.contains("retrieval_method")) {
    task.retrieval_method = string_at(y, root, "", "retrieval_method", true);
    if (task.retrieval_method != "itm" && task.retrieval_method != "itc")
      fail("{}: retrieval_method must be itm or itc, got '{}'", y.where("/retrieval_method"), task.retrieval_method);
  }
  if (task.output_type == OutputType::MultipleChoice && task.doc_to_choice.empty())
    fail("{}: output_type multiple_choice needs doc_to_choice", y.where("/output_type"));
  if (root.contains("generation_kwargs")) {
    check_generation_kwargs(y, root["generation_kwargs"]);
    task.generation_kwargs = Json::parse(root["generation_kwargs"].dump());
  }
  if (root.contains("filters")) {
    if (!root["filters"].is_array()) fail("{}: filters must be a list", y.where("/filters"));
    for (size_t i = 0; i < root["filters"].size(); ++i)
      task.filters.push_back(parse_filter(y, root["filters"][i], "/filters/" + std::to_string(i)));
  }
  if (!root.contains("metric_list") || !root["metric_list"].is_array() || root["metric_list"].empty())
    fail("{}: metric_list must be a non-empty list of {{metric: NAME}}", y.where("/metric_list"));
  std::set<std::string> seen;
  for (size_t i = 0; i < root["metric_list"].size(); ++i) {
    const std::string p = "/metric_list/" + std::to_string(i);
    MetricSpec spec = parse_metric(y, root["metric_list"][i], p, task.output_type, !task.doc_to_choice.empty());
    if (!seen.insert(spec.name).second) fail("{}: metric '{}' is listed twice", y.where(p), spec.name);
    task.metrics.push_back(std::move(spec));
  }
  return task;
}

namespace {

// RFC 4180: quoted fields may hold commas, quotes ("") and newlines. Rows are vectors of cells; `lines`
// gets each row's first line number.
std::vector<std::vector<std::string>> parse_csv(const std::string& text, const fs::path& file, std::vector<int>& lines) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, cell_started = false;
  int line = 1, row_line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        cell.push_back(c);
      }
      continue;
    }
    if (c == '"' && !cell_started) {
      quoted = cell_started = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
      cell_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(cell));
      cell.clear();
      cell_started = false;
      if (!(row.size() == 1 && row[0].empty())) {
        rows.push_back(std::move(row));
        lines.push_back(row_line);
      }
      row.clear();
      row_line = ++line;
    } else {
      cell.push_back(c);
      cell_started = true;
    }
  }
  if (quoted) fail("{}:{}: a quoted field is not closed", file.string(), row_line);
  if (cell_started || !row.empty()) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
    lines.push_back(row_line);
  }
  return rows;
}

struct RawDocument {
  OrderedJson fields;
  std::string where;  // "file:line"
};

std::vector<RawDocument> read_dataset(const fs::path& file) {
  std::error_code error;
  const auto status = fs::status(file, error);
  if (error || !fs::exists(status)) fail("{}: dataset file not found", file.string());
  if (!fs::is_regular_file(status)) fail("{}: the dataset is not a regular file", file.string());
  const std::string text = read_bytes(file);
  check_utf8(text, file.string());
  std::vector<RawDocument> docs;
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (extension == ".csv") {
    std::vector<int> lines;
    const auto rows = parse_csv(text, file, lines);
    if (rows.empty()) fail("{}: no header row", file.string());
    const auto& header = rows[0];
    for (size_t r = 1; r < rows.size(); ++r) {
      const std::string where = fmt::format("{}:{}", file.string(), lines[r]);
      if (rows[r].size() != header.size())
        fail("{}: {} fields, the header has {}", where, rows[r].size(), header.size());
      OrderedJson fields = OrderedJson::object();
      for (size_t c = 0; c < header.size(); ++c) {
        const std::string& cell = rows[r][c];
        // A cell holding a JSON list (e.g. several answers) is that list.
        if (!cell.empty() && cell.front() == '[') {
          check_json_depth(cell, where);
          try {
            fields[header[c]] = OrderedJson::parse(cell);
            continue;
          } catch (const OrderedJson::exception&) {  // not JSON after all (or a number beyond double): text
          }
        }
        fields[header[c]] = cell;
      }
      docs.push_back({std::move(fields), where});
    }
    return docs;
  }
  if (extension != ".jsonl" && extension != ".json")
    fail("{}: a dataset is JSON Lines (.jsonl) or CSV (.csv)", file.string());
  std::istringstream in(text);
  int line = 0;
  for (std::string row; std::getline(in, row);) {
    ++line;
    if (row.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", file.string(), line);
    OrderedJson fields;
    check_json_depth(row, where);
    try {
      fields = OrderedJson::parse(row, nullptr, true, false);
    } catch (const OrderedJson::parse_error& e) {
      fail("{}: invalid JSON: {}", where, e.what());
    } catch (const std::exception& e) {
      fail("{}: {}", where, e.what());
    }
    if (!fields.is_object()) fail("{}: a document is a JSON object, got {}", where, fields.type_name());
    docs.push_back({std::move(fields), where});
  }
  return docs;
}

std::string as_text(const OrderedJson& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return v.dump();
}

}  // namespace

std::vector<Document> load_documents(const Task& task) {
  const std::vector<RawDocument> raw = read_dataset(task.dataset);
  if (raw.empty()) fail("{}: no documents", task.dataset.string());
  std::vector<Document> docs;
  for (size_t i = 0; i < raw.size(); ++i) {
    const OrderedJson& f = raw[i].fields;
    const std::string where = fmt::format("{} (document {})", raw[i].where, i);
    Document d;
    d.id = int64_t(i);
    d.fields = f;
    auto field = [&](const std::string& name, const char* role) -> const OrderedJson& {
      if (!f.contains(name)) fail("{}: no field '{}' ({})", where, name, role);
      return f[name];
    };
    try {
      d.prompt = task.doc_to_text->render(f, true);
    } catch (const Error& e) {
      fail("{}: doc_to_text: {}", where, e.what());
    }
    for (const auto& visual : task.doc_to_visual) {
      const OrderedJson& v = field(visual, "doc_to_visual");
      std::vector<std::string> names;
      if (v.is_string()) names.push_back(v.get<std::string>());
      else if (v.is_array())
        for (const auto& item : v) {
          if (!item.is_string()) fail("{}: field '{}' must hold image file names", where, visual);
          names.push_back(item.get<std::string>());
        }
      else fail("{}: field '{}' must be an image file name or a list of them", where, visual);
      for (const auto& name : names) {
        // Each image's header is read now (format and size, no pixels), so a missing, non-image or
        // oversized file stops the run before it starts.
        try {
          if (name.rfind("data:", 0) == 0) {
            const std::string bytes = data_uri_bytes(name);
            probe_image(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "data: URI");
            d.images.push_back(name);
            continue;
          }
          const fs::path path = task.image_root / name;
          probe_image(path);
          d.images.push_back(path.string());
        } catch (const Error& e) {
          fail("{}: image: {}", where, e.what());
        }
      }
    }
    const OrderedJson& target = field(task.doc_to_target, "doc_to_target");
    if (target.is_array()) {
      if (target.empty()) fail("{}: field '{}' is an empty list", where, task.doc_to_target);
      for (const auto& t : target) {
        if (!t.is_string() && !t.is_number()) fail("{}: field '{}' must hold strings", where, task.doc_to_target);
        d.targets.push_back(as_text(t));
      }
    } else if (target.is_string() || target.is_number()) {
      d.targets.push_back(as_text(target));
    } else {
      fail("{}: field '{}' must be a string, a number or a list of strings", where, task.doc_to_target);
    }
    if (!task.doc_to_choice.empty()) {
      const OrderedJson& choices = field(task.doc_to_choice, "doc_to_choice");
      if (!choices.is_array() || choices.empty() || choices.size() > 26)
        fail("{}: field '{}' must be a list of 1 to 26 choices", where, task.doc_to_choice);
      for (const auto& c : choices) d.choices.push_back(as_text(c));
      // The right choice: an index, a letter, or the choice's text.
      const auto letters = choice_letters(d.choices.size());
      if (target.is_number_integer()) d.gold = target.get<int64_t>();
      else if (const auto it = std::find(letters.begin(), letters.end(), d.targets[0]); it != letters.end())
        d.gold = it - letters.begin();
      else if (const auto c = std::find(d.choices.begin(), d.choices.end(), d.targets[0]); c != d.choices.end())
        d.gold = c - d.choices.begin();
      if (d.gold < 0 || d.gold >= int64_t(d.choices.size()))
        fail("{}: target '{}' is not a choice index, letter or text of the {} choices", where, d.targets[0],
             d.choices.size());
    }
    docs.push_back(std::move(d));
  }
  return docs;
}

std::string apply_filters(const Task& task, const std::string& prediction) {
  std::string text = text_detail::repair_utf8(prediction);
  for (const auto& f : task.filters) {
    switch (f.kind) {
      case Filter::Kind::Strip: text = jinja::unicode::strip(text, true, true); break;
      case Filter::Kind::FirstLine: text = text.substr(0, text.find('\n')); break;
      case Filter::Kind::Lowercase: text = jinja::unicode::lower(text); break;
      case Filter::Kind::Regex: {
        // lm-eval's RegexFilter: the `select`-th match (negative from the end); its first non-empty group
        // when the pattern has groups, else the whole match; stripped. No match: the fallback.
        const text_detail::Regex regex(f.pattern);
        std::vector<std::vector<text_detail::MatchRange>> matches;
        regex.find_all_groups(text, matches);
        const int64_t n = int64_t(matches.size()), k = f.group < 0 ? n + f.group : f.group;
        if (k < 0 || k >= n) {
          text = f.fallback;
          break;
        }
        const auto& groups = matches[size_t(k)];
        std::string picked = text.substr(groups[0].start, groups[0].end - groups[0].start);
        if (groups.size() > 1) {
          picked.clear();
          for (size_t g = 1; g < groups.size(); ++g)
            if (groups[g].end > groups[g].start) {
              picked = text.substr(groups[g].start, groups[g].end - groups[g].start);
              break;
            }
        }
        text = jinja::unicode::strip(picked, true, true);
        break;
      }
    }
  }
  return text;
}

Json score_document(const Task& task, const Document& doc, const std::string& prediction,
                    const std::vector<double>& loglikelihoods) {
  Json values = Json::object();
  for (const auto& m : task.metrics) {
    double v = 0;
    if (m.name == "exact_match") v = exact_match(prediction, doc.targets, m.exact_match);
    else if (m.name == "vqa_accuracy") v = vqa_accuracy(prediction, doc.targets);
    else if (m.name == "anls") v = anls(prediction, doc.targets, m.threshold);
    else if (m.name == "relaxed_accuracy") v = relaxed_accuracy(prediction, doc.targets, m.tolerance);
    else if (m.name == "multiple_choice_accuracy") {
      if (task.output_type == OutputType::MultipleChoice) {
        // lmms-eval's acc: the choice of highest log-likelihood (the first of equals) is the gold one.
        if (loglikelihoods.size() != doc.choices.size())
          fail("document {}: {} log-likelihoods for {} choices", doc.id, loglikelihoods.size(), doc.choices.size());
        const int64_t best = std::max_element(loglikelihoods.begin(), loglikelihoods.end()) - loglikelihoods.begin();
        v = best == doc.gold ? 1.0 : 0.0;
      } else {
        const auto letters = choice_letters(doc.choices.size());
        v = extract_choice_letter(prediction, letters) == letters[size_t(doc.gold)] ? 1.0 : 0.0;
      }
    }
    values[m.name] = v;
  }
  return values;
}

}  // namespace vlm::eval
