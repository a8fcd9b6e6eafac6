#pragma once
// Python's number printing and string formatting: float repr, `format % args` (the `format` filter and
// the % operator on strings) and str.format.
#include <string>

#include "jinja_value.hpp"

namespace vlm::jinja {

std::string float_repr(double value);  // repr(float): shortest round-trip digits, "1e+16", "0.1", "inf"
std::string percent_format(const std::string& format, const Value& args);  // Python `format % args`
std::string brace_format(const std::string& format, const CallArgs& args);  // str.format(*args, **kwargs)

}  // namespace vlm::jinja
