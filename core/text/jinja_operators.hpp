#pragma once
// Python operators on template values, and the sandboxed attribute / item lookup of jinja2
// (ImmutableSandboxedEnvironment.getattr / getitem): misses give undefined values, not errors.
#include <optional>
#include <string>

#include "jinja_ast.hpp"

namespace vlm::jinja {

Value arithmetic(BinaryExpr::Op op, const Value& left, const Value& right);  // + - * / // % **
Value negate(const Value& operand, bool minus);                             // unary - and +
bool compare(CompareOp op, const Value& left, const Value& right);
bool contains(const Value& container, const Value& item);  // `item in container`

Value get_attribute(const Value& object, const std::string& name);  // `obj.name`: attribute, then item
Value get_item(const Value& object, const Value& key);              // `obj[key]`: item, then attribute
// obj[start:stop:step] on str, list and tuple; bounds are int or none.
Value slice(const Value& object, const Value& start, const Value& stop, const Value& step);

}  // namespace vlm::jinja
