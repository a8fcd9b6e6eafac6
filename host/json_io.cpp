#include "json_io.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "vlm/util/error.hpp"

namespace vlm::host {

namespace {

// A folder, a device (/dev/zero never ends) or a FIFO is refused before reading.
void check_regular_file(const std::string& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status)) fail("{}: no such file", path);
  if (!std::filesystem::is_regular_file(status)) fail("{}: not a regular file", path);
  constexpr uintmax_t kLimit = uintmax_t(1) << 30;
  if (const auto size = std::filesystem::file_size(path, error); !error && size > kLimit)
    fail("{}: {} bytes, more than the 1 GiB a text file may have here", path, size);
}

}  // namespace

std::string read_text_file(const std::string& path) {
  check_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

OrderedJson read_json_file(const std::string& path) {
  const std::string text = read_text_file(path);
  check_json_depth(text, path);
  try {
    return OrderedJson::parse(text);
  } catch (const OrderedJson::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    fail("{}: invalid JSON: {}", path, e.what());
  }
}

void for_each_jsonl_object(const std::string& path,
                           const std::function<void(const OrderedJson& object, const std::string& where)>& visit) {
  check_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // a trailing blank line is common
    const std::string where = fmt::format("{}:{}", path, line_number);
    OrderedJson object;
    check_json_depth(line, where);
    try {
      object = OrderedJson::parse(line);
    } catch (const OrderedJson::exception& e) {
      fail("{}: invalid JSON: {}", where, e.what());
    }
    if (!object.is_object()) fail("{}: expected a JSON object, got {}", where, object.type_name());
    visit(object, where);
  }
}

OrderedJson json_rows(const Tensor& t) {
  OrderedJson rows = OrderedJson::array();
  const Tensor values = t.to(DType::F32);
  const int64_t n = t.rank() == 0 ? 1 : t.dim(0), d = t.numel() / std::max<int64_t>(n, 1);
  for (int64_t i = 0; i < n; ++i)
    rows.push_back(std::vector<float>(values.data<float>() + i * d, values.data<float>() + (i + 1) * d));
  return rows;
}

void print_json_line(const OrderedJson& value) {
  // Decoded text can hold a lone piece of a multi-byte character; replacing it beats aborting the whole run.
  const std::string line = value.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace vlm::host
