#include "utf8.hpp"

namespace vlm::text_detail {

namespace {

// What a lead byte allows (Unicode table 3-7): the sequence length and the range of the second byte,
// which rejects overlongs and surrogates. Length 0 means the byte cannot start a sequence.
struct LeadRule {
  std::size_t length = 0;
  unsigned char second_lo = 0x80, second_hi = 0xBF;
};

LeadRule lead_rule(unsigned char b0) {
  LeadRule r;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    r.length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    r.length = 3;
    if (b0 == 0xE0) r.second_lo = 0xA0;
    if (b0 == 0xED) r.second_hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    r.length = 4;
    if (b0 == 0xF0) r.second_lo = 0x90;
    if (b0 == 0xF4) r.second_hi = 0x8F;
  }
  return r;
}

// How many bytes from `pos` (lead included) follow the rule before the first that does not.
std::size_t conforming_prefix(std::string_view text, std::size_t pos, const LeadRule& rule) {
  std::size_t i = 1;
  for (; i < rule.length && pos + i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[pos + i]);
    const bool ok = i == 1 ? (b >= rule.second_lo && b <= rule.second_hi) : (b & 0xC0) == 0x80;
    if (!ok) break;
  }
  return i;
}

}  // namespace

std::size_t valid_sequence_length(std::string_view text, std::size_t pos) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) return 1;
  const LeadRule rule = lead_rule(b0);
  if (rule.length == 0) return 0;
  return conforming_prefix(text, pos, rule) == rule.length ? rule.length : 0;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const std::size_t len = valid_sequence_length(text, pos);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

// The maximal subpart of an invalid sequence is the longest prefix that could still start a valid
// sequence; it becomes one U+FFFD and decoding resumes right after it.
static std::size_t maximal_invalid_subpart(std::string_view text, std::size_t pos) {
  const LeadRule rule = lead_rule(static_cast<unsigned char>(text[pos]));
  return rule.length == 0 ? 1 : conforming_prefix(text, pos, rule);
}

std::string repair_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t pos = 0; pos < bytes.size();) {
    const std::size_t len = valid_sequence_length(bytes, pos);
    if (len) {
      out.append(bytes.substr(pos, len));
      pos += len;
    } else {
      append_utf8(out, kReplacementChar);
      pos += maximal_invalid_subpart(bytes, pos);
    }
  }
  return out;
}

std::size_t count_code_points(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

}  // namespace vlm::text_detail
