#include "regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "utf8.hpp"
#include "vlm/util/error.hpp"

namespace vlm::text_detail {

struct Regex::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Compiled() { pcre2_code_free(code); }
};

namespace {
// Backtracking bounds per match attempt. Tokenizer patterns need tens of steps per match on any text; a
// pattern that backtracks catastrophically (from a hostile tokenizer.json or task file) hits these within
// milliseconds and fails with an Error instead of running for hours.
constexpr uint32_t kMatchLimit = 1'000'000;
constexpr uint32_t kDepthLimit = 10'000;

// Per-thread scratch: match data and a JIT stack large enough for backtracking over multi-megabyte
// inputs (the default 32 KiB machine stack overflows on long whitespace runs with lookahead).
struct MatchScratch {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, nullptr);
  pcre2_match_context* context = [this] {
    auto* ctx = pcre2_match_context_create(nullptr);
    pcre2_jit_stack_assign(ctx, nullptr, stack);
    pcre2_set_match_limit(ctx, kMatchLimit);
    pcre2_set_depth_limit(ctx, kDepthLimit);
    return ctx;
  }();
  ~MatchScratch() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
    pcre2_match_data_free(data);
  }
};
MatchScratch& scratch() {
  thread_local MatchScratch s;
  return s;
}
}  // namespace

Regex::Regex(std::string_view pattern) : pattern_(pattern), compiled_(std::make_unique<Compiled>()) {
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  compiled_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                  PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &error, &error_offset, nullptr);
  if (!compiled_->code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    fail("invalid regex \"{}\" at offset {}: {}", pattern, error_offset, reinterpret_cast<const char*>(message));
  }
  compiled_->jit = pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE) == 0;
}

// Error for a failed match at `offset` of `text` (a limit hit, or an internal failure).
[[noreturn]] static void match_failed(const std::string& pattern, int rc, std::size_t offset, std::size_t size) {
  if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
    fail("regex \"{}\" backtracks without bound at byte {} of a {}-byte text (more than {} steps for one match); "
         "the pattern cannot be used on this text", pattern, offset, size, kMatchLimit);
  PCRE2_UCHAR message[256];
  pcre2_get_error_message(rc, message, sizeof message);
  fail("regex \"{}\" failed at byte {}: {}", pattern, offset, reinterpret_cast<const char*>(message));
}

Regex Regex::literal(std::string_view text) { return Regex(regex_escape(text)); }

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

void Regex::find_all(std::string_view text, std::vector<MatchRange>& out) const {
  auto& s = scratch();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t offset = 0;
  while (offset <= text.size()) {
    const int rc = compiled_->jit
                       ? pcre2_jit_match(compiled_->code, subject, text.size(), offset, 0, s.data, s.context)
                       : pcre2_match(compiled_->code, subject, text.size(), offset, PCRE2_NO_UTF_CHECK, s.data,
                                     s.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) match_failed(pattern_, rc, offset, text.size());
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(s.data);
    const std::size_t start = ovector[0], end = ovector[1];
    out.push_back({start, end});
    if (end > start) {
      offset = end;
    } else {  // an empty match: resume one character later so the scan always advances
      if (end >= text.size()) break;
      offset = end + sequence_length(static_cast<unsigned char>(text[end]));
    }
  }
}

void Regex::find_all_groups(std::string_view text, std::vector<std::vector<MatchRange>>& out) const {
  auto& s = scratch();
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(compiled_->code, nullptr);
  struct Free {
    pcre2_match_data* d;
    ~Free() { pcre2_match_data_free(d); }
  } guard{data};
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t offset = 0;
  while (offset <= text.size()) {
    const int rc = compiled_->jit
                       ? pcre2_jit_match(compiled_->code, subject, text.size(), offset, 0, data, s.context)
                       : pcre2_match(compiled_->code, subject, text.size(), offset, PCRE2_NO_UTF_CHECK, data, s.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) match_failed(pattern_, rc, offset, text.size());
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    const uint32_t pairs = pcre2_get_ovector_count(data);
    std::vector<MatchRange> groups;
    for (uint32_t g = 0; g < pairs; ++g) {
      if (ovector[2 * g] == PCRE2_UNSET) groups.push_back({ovector[0], ovector[0]});
      else groups.push_back({ovector[2 * g], ovector[2 * g + 1]});
    }
    out.push_back(std::move(groups));
    const std::size_t start = ovector[0], end = ovector[1];
    if (end > start) {
      offset = end;
    } else {
      if (end >= text.size()) break;
      offset = end + sequence_length(static_cast<unsigned char>(text[end]));
    }
  }
}

std::string regex_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 2);
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}-/#&~ \t\n").find(c) != std::string_view::npos) {
      if (c == '\t') { out += "\\t"; continue; }
      if (c == '\n') { out += "\\n"; continue; }
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace vlm::text_detail
