#pragma once
// One exception type for every user-facing failure: the message says what is wrong and where.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace vlm {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace vlm
