#pragma once
// The values templates compute with, modelled on the Python objects jinja2 handles: Undefined, None,
// bool, int, float, str, list/tuple/generator, dict and opaque objects (namespace, loop, functions,
// macros). Printing, equality, ordering and truthiness follow Python so output matches byte for byte.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace vlm::jinja {

class Value;
class Interpreter;

// A failure while rendering (Python's TemplateError, TypeError, UndefinedError, ...). The interpreter
// turns it into a vlm::TemplateError carrying the template location.
class RenderFailure : public std::runtime_error {
 public:
  explicit RenderFailure(const std::string& message) : std::runtime_error(message) {}
};

// Sandbox limits that turn a hostile template into a TemplateError instead of an exhausted machine. Real
// chat templates stay orders of magnitude below them.
constexpr int64_t kMaxRenderSteps = 5'000'000;  // statements run and loop iterations, per render
constexpr size_t kMaxStringBytes = 64u << 20;   // any string made while rendering, the output included
constexpr int64_t kMaxRepeat = 50'000'000;      // elements of a repeated string or list ('-' * n, [x] * n)

template <typename... Args>
[[noreturn]] void render_fail(fmt::format_string<Args...> format, Args&&... args) {
  throw RenderFailure(fmt::format(format, std::forward<Args>(args)...));
}

// A string about to be made `size` bytes long: refused beyond kMaxStringBytes.
void check_string_size(size_t size);

// Python distinguishes these sequence types in printing, len() and truthiness. Generators are what
// select/map/... return: always truthy and without len(); here they are materialised eagerly.
enum class SeqKind { List, Tuple, Generator };

struct Sequence {
  SeqKind kind = SeqKind::List;
  std::vector<Value> items;
};

// Insertion-ordered, like a Python dict. Keys compare with Python equality (1 == 1.0 == True).
struct Dict {
  std::vector<std::pair<Value, Value>> entries;
  const Value* find(const Value& key) const;
  void set(const Value& key, Value value);
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;
  const Value* keyword(std::string_view name) const;
};

// Namespaces, loop contexts, builtin functions, bound methods and macros.
class Object {
 public:
  virtual ~Object() = default;
  virtual std::string type_name() const = 0;  // Python type name, used in messages
  virtual std::string repr() const = 0;
  // `obj.name`; nullopt when there is no such attribute.
  virtual std::optional<Value> attribute(const std::string& name) const;
  virtual bool is_callable() const { return false; }
  virtual Value call(CallArgs& args, Interpreter& interpreter) const;
};

class Value {
 public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, Sequence, Dict, Object };

  Value() = default;  // an undefined value with the default message
  static Value undefined(std::string message);
  static Value none();
  Value(bool b) : kind_(Kind::Bool), int_(b) {}
  Value(int i) : kind_(Kind::Int), int_(i) {}
  Value(int64_t i) : kind_(Kind::Int), int_(i) {}
  Value(double f) : kind_(Kind::Float), float_(f) {}
  Value(std::string s);
  Value(const char* s) : Value(std::string(s)) {}
  Value(std::shared_ptr<Object> object);
  static Value sequence(std::vector<Value> items, SeqKind kind = SeqKind::List);
  static Value make_dict(Dict dict = {});

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }  // Python int, bool excluded
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_integral() const { return kind_ == Kind::Int || kind_ == Kind::Bool; }
  bool is_number() const { return is_integral() || kind_ == Kind::Float; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_sequence() const { return kind_ == Kind::Sequence; }
  bool is_list() const { return is_sequence() && seq_->kind == SeqKind::List; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_object() const { return kind_ == Kind::Object; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const;  // bool or int
  double as_float() const;  // any number
  const std::string& as_string() const { return *text_; }
  const std::string& undefined_message() const;
  Sequence& seq() const { return *seq_; }
  Dict& dict() const { return *dict_; }
  const std::shared_ptr<Object>& object() const { return object_; }
  // Python `is`: the same object (containers and objects), or the same singleton / small value.
  bool identical(const Value& other) const;

 private:
  Kind kind_ = Kind::Undefined;
  union {
    int64_t int_ = 0;
    double float_;
  };
  std::shared_ptr<const std::string> text_;  // string content, or an undefined value's message
  std::shared_ptr<Sequence> seq_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Object> object_;
};

// Python builtins on values.
bool truthy(const Value& v);                    // bool(x)
std::string type_name(const Value& v);          // type(x).__name__: "str", "dict", "NoneType", ...
std::string object_type_repr(const Value& v);   // jinja2's "dict object" / "None", used in messages
std::string to_str(const Value& v);             // str(x); an undefined value prints as ""
std::string repr(const Value& v);               // repr(x)
bool equals(const Value& a, const Value& b);    // a == b
bool less(const Value& a, const Value& b);      // a < b; fails for unorderable types as Python does
std::optional<int64_t> length(const Value& v);  // len(x); nullopt when x has no len()
std::vector<Value> iterate(const Value& v);     // list(x); fails when x is not iterable
[[noreturn]] void fail_undefined(const Value& v);  // raises the error an undefined value carries

// JSON in: objects keep their order; integers that do not fit int64 become floats.
Value from_json(const nlohmann::ordered_json& json);

}  // namespace vlm::jinja
