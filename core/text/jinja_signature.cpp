#include "jinja_builtins.hpp"

namespace vlm::jinja {

Signature::Signature(const std::string& function, const std::vector<std::string>& params, const CallArgs& args,
                     size_t required)
    : bound_(params.size()) {
  if (args.positional.size() > params.size())
    render_fail("{}() takes at most {} argument{} ({} given)", function, params.size(),
                params.size() == 1 ? "" : "s", args.positional.size());
  for (size_t i = 0; i < args.positional.size(); ++i) bound_[i] = args.positional[i];
  for (const auto& [key, value] : args.keywords) {
    size_t i = 0;
    while (i < params.size() && params[i] != key) ++i;
    if (i == params.size()) render_fail("{}() got an unexpected keyword argument '{}'", function, key);
    if (bound_[i]) render_fail("{}() got multiple values for argument '{}'", function, key);
    bound_[i] = value;
  }
  for (size_t i = 0; i < required; ++i)
    if (!bound_[i]) render_fail("{}() missing required argument '{}'", function, params[i]);
}

std::optional<Value> Namespace::attribute(const std::string& name) const {
  if (const Value* v = attributes.find(Value(name))) return *v;
  return std::nullopt;
}

}  // namespace vlm::jinja
