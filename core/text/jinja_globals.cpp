// Global functions: jinja2's (range, dict, namespace, cycler, joiner) and HF's (raise_exception,
// strftime_now). Nothing here touches files, the network or the environment.
#include <ctime>

#include "jinja_builtins.hpp"

namespace vlm::jinja {
namespace {

// The sandbox refuses ranges longer than this (jinja2.sandbox.MAX_RANGE).
constexpr int64_t kMaxRange = 100000;

Value range_function(CallArgs& args, Interpreter&) {
  if (!args.keywords.empty()) render_fail("range() takes no keyword arguments");
  const auto& p = args.positional;
  if (p.empty() || p.size() > 3) render_fail("range expected at most 3 arguments, got {}", p.size());
  for (const Value& v : p)
    if (!v.is_integral()) render_fail("'{}' object cannot be interpreted as an integer", type_name(v));
  int64_t start = p.size() == 1 ? 0 : p[0].as_int();
  int64_t stop = p.size() == 1 ? p[0].as_int() : p[1].as_int();
  int64_t step = p.size() == 3 ? p[2].as_int() : 1;
  if (step == 0) render_fail("range() arg 3 must not be zero");
  int64_t count = 0;
  if (step > 0 && start < stop) count = (stop - start - 1) / step + 1;
  if (step < 0 && start > stop) count = (start - stop - 1) / (-step) + 1;
  if (count > kMaxRange)
    render_fail("Range too big. The sandbox blocks ranges larger than MAX_RANGE ({}).", kMaxRange);
  std::vector<Value> items;
  items.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) items.emplace_back(start + i * step);
  return Value::sequence(std::move(items));
}

Value dict_function(CallArgs& args, Interpreter&) {
  Dict dict;
  if (args.positional.size() > 1) render_fail("dict expected at most 1 argument, got {}", args.positional.size());
  if (!args.positional.empty()) {
    const Value& source = args.positional[0];
    if (source.is_dict()) {
      dict = source.dict();
    } else {
      for (const Value& pair : iterate(source)) {
        std::vector<Value> kv = iterate(pair);
        if (kv.size() != 2) render_fail("dictionary update sequence element has length {}; 2 is required", kv.size());
        dict.set(kv[0], kv[1]);
      }
    }
  }
  for (const auto& [key, value] : args.keywords) dict.set(Value(key), value);
  return Value::make_dict(std::move(dict));
}

Value namespace_function(CallArgs& args, Interpreter& interpreter) {
  auto ns = std::make_shared<Namespace>();
  ns->attributes = dict_function(args, interpreter).dict();
  return Value(std::move(ns));
}

class Cycler : public Object {
 public:
  explicit Cycler(std::vector<Value> items) : items_(std::move(items)) {}
  std::string type_name() const override { return "Cycler"; }
  std::string repr() const override { return "<Cycler>"; }
  std::optional<Value> attribute(const std::string& name) const override {
    auto position = position_;
    auto items = items_;
    if (name == "current") return items_[*position_];
    if (name == "next")
      return make_function("next", [position, items](CallArgs&, Interpreter&) {
        Value v = items[*position];
        *position = (*position + 1) % items.size();
        return v;
      });
    if (name == "reset") return make_function("reset", [position](CallArgs&, Interpreter&) {
        *position = 0;
        return Value::none();
      });
    return std::nullopt;
  }

 private:
  std::vector<Value> items_;
  std::shared_ptr<size_t> position_ = std::make_shared<size_t>(0);
};

Value joiner_function(CallArgs& args, Interpreter&) {
  Signature sig("joiner", {"sep"}, args);
  std::string separator = to_str(sig.get_or(0, Value(", ")));
  auto used = std::make_shared<bool>(false);
  return make_function("joiner", [separator, used](CallArgs&, Interpreter&) {
    if (!*used) {
      *used = true;
      return Value("");
    }
    return Value(separator);
  });
}

Value raise_exception_function(CallArgs& args, Interpreter&) {
  Signature sig("raise_exception", {"message"}, args, 1);
  throw RenderFailure(to_str(sig.get(0)));
}

Value strftime_now_function(CallArgs& args, Interpreter&) {
  Signature sig("strftime_now", {"format"}, args, 1);
  std::string format = to_str(sig.get(0));
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buffer[512];
  size_t n = std::strftime(buffer, sizeof buffer, format.c_str(), &local);
  if (n == 0 && !format.empty()) render_fail("strftime_now: the format gives an empty or too long result");
  return Value(std::string(buffer, n));
}

}  // namespace

Dict global_functions() {
  Dict globals;
  globals.set(Value("range"), make_function("range", range_function));
  globals.set(Value("dict"), make_function("dict", dict_function));
  globals.set(Value("namespace"), make_function("namespace", namespace_function));
  globals.set(Value("cycler"), make_function("cycler", [](CallArgs& args, Interpreter&) {
                if (args.positional.empty()) render_fail("cycler() needs at least one item");
                return Value(std::make_shared<Cycler>(args.positional));
              }));
  globals.set(Value("joiner"), make_function("joiner", joiner_function));
  globals.set(Value("raise_exception"), make_function("raise_exception", raise_exception_function));
  globals.set(Value("strftime_now"), make_function("strftime_now", strftime_now_function));
  return globals;
}

}  // namespace vlm::jinja
