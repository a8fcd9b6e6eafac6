#pragma once
// JSON and text input and output of the subcommands: whole files, JSON Lines, tensor rows as JSON, and
// one JSON object per output line.
#include <functional>
#include <string>

#include "vlm/io/config.hpp"
#include "vlm/tensor/tensor.hpp"

namespace vlm::host {

// The contents of `path`, byte for byte; errors name the file.
std::string read_text_file(const std::string& path);

// The JSON document in `path`, keeping object key order (templates can show it); errors name the file.
OrderedJson read_json_file(const std::string& path);

// Calls `visit(object, where)` for each non-blank line of the JSON Lines file `path`, in order; `where` is
// "path:line" for the visitor's own error messages. A line that is not a JSON object is an Error naming the
// file and line.
void for_each_jsonl_object(const std::string& path,
                           const std::function<void(const OrderedJson& object, const std::string& where)>& visit);

// The rows of `t` ([n, ...] -> n arrays of its remaining values, as f32).
OrderedJson json_rows(const Tensor& t);

// Writes `value` as one compact line on stdout and flushes it, so a long run shows progress when piped.
void print_json_line(const OrderedJson& value);

}  // namespace vlm::host
