#include "../text/precompiled_charsmap.hpp"
#include "vlm/image/load.hpp"
#include "vlm/util/error.hpp"

namespace vlm {

std::string data_uri_bytes(std::string_view uri) {
  const size_t comma = uri.find(',');
  if (uri.substr(0, 5) != "data:" || comma == std::string_view::npos ||
      uri.substr(0, comma).find(";base64") == std::string_view::npos)
    fail("only base64 data: URIs are supported (data:image/png;base64,...)");
  return text_detail::base64_decode(uri.substr(comma + 1));
}

}  // namespace vlm
