// ChatTemplate: parse once, render many times.
#include "vlm/text/chat_template.hpp"

#include "jinja_interpreter.hpp"
#include "jinja_parser.hpp"

namespace vlm {

static std::string located(const std::string& message, const std::string& origin, int line, int column) {
  if (column > 0) return fmt::format("{}:{}:{}: {}", origin, line, column, message);
  return fmt::format("{}:{}: {}", origin, line, message);
}

TemplateError::TemplateError(const std::string& message, const std::string& origin, int line, int column)
    : Error(located(message, origin, line, column)), message_(message), origin_(origin), line_(line), column_(column) {}

ChatTemplate ChatTemplate::parse(std::string source, std::string origin) {
  ChatTemplate t;
  t.program_ = jinja::parse_program(source, origin);
  return t;
}

std::string ChatTemplate::render(const OrderedJson& context, bool strict_undefined) const {
  if (!context.is_object())
    throw TemplateError(fmt::format("the render context must be a JSON object, not {}", context.type_name()),
                        program_->origin, 0, 0);
  jinja::Interpreter interpreter(*program_, strict_undefined);
  return interpreter.render(jinja::from_json(context));
}

const std::string& ChatTemplate::origin() const { return program_->origin; }

}  // namespace vlm
