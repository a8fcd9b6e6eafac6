// vlm tokenize --tokenizer DIR (--text T | --jsonl FILE): what the tokenizer makes of a text, for debugging
// prompts and for comparing against Hugging Face's output (the --jsonl fields are those of the reference files).
#include <fmt/format.h>

#include "../command.hpp"
#include "../json_io.hpp"
#include "vlm/text/tokenizer.hpp"

namespace vlm::host {
namespace {

// The vocabulary entry of each id; ids beyond the vocabulary show how decode() shows them.
std::vector<std::string> token_strings(const Tokenizer& tokenizer, const std::vector<int64_t>& ids) {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int64_t id : ids) tokens.push_back(tokenizer.id_to_token(id).value_or(fmt::format("<id {} beyond tokenizer>", id)));
  return tokens;
}

void print_text_tokenization(const Tokenizer& tokenizer, const std::string& text, bool add_special_tokens, bool as_json) {
  const std::vector<int64_t> ids = tokenizer.encode(text, add_special_tokens);
  const std::vector<std::string> tokens = token_strings(tokenizer, ids);
  if (as_json) {
    print_json_line({{"ids", ids}, {"tokens", tokens}, {"decoded", tokenizer.decode(ids)}});
    return;
  }
  fmt::print("{}\n", fmt::join(ids, " "));
  // Quoted as JSON strings: tokens may contain spaces or be empty, and a bare list would hide that.
  std::vector<std::string> quoted;
  for (const auto& token : tokens) quoted.push_back(OrderedJson(token).dump(-1, ' ', false, OrderedJson::error_handler_t::replace));
  fmt::print("{}\n", fmt::join(quoted, " "));
}

void print_jsonl_tokenizations(const Tokenizer& tokenizer, const std::string& path) {
  for_each_jsonl_object(path, [&](const OrderedJson& line, const std::string& where) {
    if (!line.contains("text") || !line["text"].is_string()) fail("{}: expected a string field \"text\"", where);
    const auto text = line["text"].get<std::string>();
    const std::vector<int64_t> ids = tokenizer.encode(text, true);
    OrderedJson out;
    out["ids"] = ids;
    out["ids_no_special"] = tokenizer.encode(text, false);
    out["decoded"] = tokenizer.decode(ids);
    out["decoded_skip_special"] = tokenizer.decode(ids, true);
    print_json_line(out);
  });
}

}  // namespace

int tokenize_command(const std::vector<std::string>& args) {
  po::options_description options("vlm tokenize");
  options.add_options()
      ("tokenizer,t", po::value<std::string>()->required(), "checkpoint or tokenizer directory")
      ("text", po::value<std::string>(), "text to tokenize")
      ("jsonl", po::value<std::string>(), "JSON Lines file whose lines have a \"text\" field")
      ("no-special", "with --text: encode without special tokens (add_special_tokens = false)")
      ("json", "with --text: print one JSON object {ids, tokens, decoded}");
  po::variables_map vm;
  if (!parse_options(args,
                     "usage: vlm tokenize --tokenizer DIR (--text TEXT | --jsonl FILE) [--no-special] [--json]\n\n"
                     "With --text, prints the ids, then the token strings (as JSON strings). With --jsonl, writes one\n"
                     "JSON line per input line: ids, ids_no_special, decoded (decode(ids)) and decoded_skip_special,\n"
                     "the fields of Hugging Face reference files.",
                     options, {}, vm))
    return 0;
  if (vm.count("text") == vm.count("jsonl")) throw po::error("give exactly one of --text TEXT and --jsonl FILE");
  if (vm.count("jsonl") && (vm.count("no-special") || vm.count("json")))
    throw po::error("--no-special and --json go with --text (--jsonl always writes JSON, with and without special tokens)");

  const auto tokenizer = Tokenizer::load(vm["tokenizer"].as<std::string>());
  if (vm.count("jsonl"))
    print_jsonl_tokenizations(*tokenizer, vm["jsonl"].as<std::string>());
  else
    print_text_tokenization(*tokenizer, vm["text"].as<std::string>(), vm.count("no-special") == 0, vm.count("json") != 0);
  return 0;
}

}  // namespace vlm::host
