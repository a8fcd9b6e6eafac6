#pragma once
// JSON input and output of the debugging subcommands (tokenize, template): whole files, JSON Lines, and
// one JSON object per output line.
#include <functional>
#include <string>

#include "vlm/io/config.hpp"

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

// Writes `value` as one compact line on stdout and flushes it, so a long run shows progress when piped.
void print_json_line(const OrderedJson& value);

}  // namespace vlm::host
