// Errors: parse errors carry origin, line and column; render-time failures (raise_exception, type errors,
// undefined chains, sandbox refusals) are TemplateErrors with the line; limits stop runaway templates.
// Line numbers and messages were checked against Python jinja2 where it reports them.
#include <catch2/catch.hpp>

#include "chat_template_test_util.hpp"

using vlm::ChatTemplate;
using vlm::TemplateError;
using vlm::test::render;

namespace {

TemplateError parse_error(const std::string& source) {
  try {
    ChatTemplate::parse(source, "tpl.jinja");
  } catch (const TemplateError& e) {
    return e;
  }
  FAIL("expected a parse error for: " << source);
  throw;
}

TemplateError render_error(const std::string& source, const std::string& context = "{}") {
  auto t = ChatTemplate::parse(source, "tpl.jinja");
  try {
    t.render(vlm::OrderedJson::parse(context));
  } catch (const TemplateError& e) {
    return e;
  }
  FAIL("expected a render error for: " << source);
  throw;
}

}  // namespace

TEST_CASE("parse errors name origin, line and column", "[chat_template][errors]") {
  auto e = parse_error("line1\n{% if x %}\n  {{ 1 + }}\n{% endif %}");
  CHECK(e.origin() == "tpl.jinja");
  CHECK(e.line() == 3);
  CHECK(e.column() == 10);
  CHECK(e.message() == "unexpected 'end of print statement'");
  CHECK(std::string(e.what()) == "tpl.jinja:3:10: unexpected 'end of print statement'");

  e = parse_error("a\n{% for x in y %}\nno end");
  CHECK(e.line() == 3);
  CHECK(e.message() ==
        "Unexpected end of template. Jinja was looking for the following tags: 'endfor' or 'else'. "
        "The innermost block that needs to be closed is 'for'.");

  e = parse_error("{{ 'ok' }}\n\n   {% bogus %}");
  CHECK(e.line() == 3);
  CHECK(e.column() == 7);
  CHECK(e.message() == "Encountered unknown tag 'bogus'.");

  e = parse_error("{% if a %}{% endfor %}");
  CHECK(e.message().rfind("Encountered unknown tag 'endfor'.", 0) == 0);
  CHECK(parse_error("x\n{{ 'unterminated }}").line() == 2);
  CHECK(parse_error("{{ a.b( }}").message() == "unexpected '}', expected ')'");
  CHECK(parse_error("{{ [1, 2 }}").message() == "unexpected '}', expected ']'");
  CHECK(parse_error("{% macro m(a=1, b) %}{% endmacro %}").message() == "non-default argument follows default argument");
  CHECK(parse_error("{# never closed").message() == "Missing end of comment tag");
  CHECK(parse_error("{% raw %} no end").message() == "Missing end of raw directive");
  CHECK(parse_error("{% set 1 = 2 %}").line() == 1);
  CHECK(parse_error("{% include 'other.jinja' %}").message().find("not supported") != std::string::npos);
}

TEST_CASE("raise_exception and runtime failures are TemplateErrors with the line", "[chat_template][errors]") {
  auto e = render_error("{% if true %}\n{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}");
  CHECK(e.message() == "Only user and assistant roles are supported!");
  CHECK(e.line() == 2);

  CHECK(render_error("x\n\n  {{ 'a' + 1 }}").message() == "can only concatenate str (not \"int\") to str");
  CHECK(render_error("x\n\n  {{ 'a' + 1 }}").line() == 3);
  CHECK(render_error("{{ 1 / 0 }}").message() == "division by zero");
  CHECK(render_error("{{ x.y }}").message() == "'x' is undefined");
  CHECK(render_error("{{ d.y.z }}", R"({"d": {}})").message() == "'dict object' has no attribute 'y'");
  CHECK(render_error("{{ l[3].z }}", R"({"l": []})").message() == "list object has no element 3");
  CHECK(render_error("{{ x() }}").message() == "'x' is undefined");
  CHECK(render_error("{{ x + 1 }}").message() == "'x' is undefined");
  CHECK(render_error("{% for x in none %}{% endfor %}").message() == "'NoneType' object is not iterable");
  CHECK(render_error("{% for a, b in [(1, 2, 3)] %}{% endfor %}").message() == "too many values to unpack (expected 2)");
  CHECK(render_error("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}").message() == "macro 'm' takes not more than 1 argument(s)");
  CHECK(render_error("{% macro m(a) %}{% endmacro %}{{ m(b=2) }}").message() == "macro 'm' takes no keyword argument 'b'");
  CHECK(render_error("{% set x = 1 %}{% set x.y = 2 %}").message() == "Cannot assign attribute on non-namespace object");
  CHECK(render_error("{{ x | nosuchfilter }}").message() == "No filter named 'nosuchfilter'.");
  CHECK(render_error("{{ 1 is nosuchtest }}").message() == "No test named 'nosuchtest'.");
  CHECK(render_error("{{ 'a' < 1 }}").message() == "'<' not supported between instances of 'str' and 'int'");
  CHECK(render_error("{{ [1] | selectattr('a', 'eq', 1) | length }}").message() == "object of type 'generator' has no len()");
  CHECK(render_error("{{ x | tojson }}").message() == "Object of type Undefined is not JSON serializable");
}

TEST_CASE("the immutable sandbox refuses to mutate containers", "[chat_template][errors]") {
  CHECK(render_error("{% set l = [1] %}{{ l.append(2) }}").message() == "access to attribute 'append' of 'list' object is unsafe.");
  CHECK(render_error("{% set d = {} %}{{ d.update({'a': 1}) }}").message() == "access to attribute 'update' of 'dict' object is unsafe.");
  CHECK(render("{{ ''.__class__ }}|{{ d._private }}", R"({"d": {"_private": 1}})") == "|1");
}

TEST_CASE("runaway templates stop with an error instead of crashing", "[chat_template][errors]") {
  CHECK(render_error("{% macro down(n) %}{{ down(n + 1) }}{% endmacro %}{{ down(0) }}").message().find("recursion") != std::string::npos);
  CHECK(render_error("{{ range(200000) | length }}").message() ==
        "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  CHECK(render_error("{{ 'x' * 100000000 }}").message() == "repeated string is too long");
  CHECK(render_error("{{ 2 ** 100 }}").message().find("64-bit") != std::string::npos);  // Python has big ints

  const std::string deep_parens = std::string(5000, '(') + "1" + std::string(5000, ')');
  CHECK_THROWS_AS(ChatTemplate::parse("{{ " + deep_parens + " }}"), TemplateError);
  std::string deep_ifs;
  for (int i = 0; i < 3000; ++i) deep_ifs += "{% if true %}";
  CHECK_THROWS_AS(ChatTemplate::parse(deep_ifs), TemplateError);
  std::string deep_list = std::string(3000, '[') + std::string(3000, ']');
  CHECK_THROWS_AS(ChatTemplate::parse("{{ " + deep_list + " }}"), TemplateError);

  // Nested loops of 10^10 iterations in all stop at the step limit instead of running for hours.
  CHECK(render_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
            .message()
            .find("refused as runaway") != std::string::npos);
  // A string doubled 40 times would be a terabyte: refused at the sandbox's size limit, by ~ and by +.
  CHECK(render_error("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")
            .message()
            .find("too long: the template sandbox allows 64 MiB") != std::string::npos);
  CHECK(render_error("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}")
            .message()
            .find("too long") != std::string::npos);
  // So is output that grows past it, a line at a time.
  CHECK(render_error("{% set line = 'x' * 10000000 %}{% for i in range(10) %}{{ line }}{% endfor %}")
            .message()
            .find("too long") != std::string::npos);
  // Format widths that would build gigabyte strings, in %-format, str.format and the format filter.
  CHECK(render_error("{{ '%999999999s' % 'a' }}").message().find("too large") != std::string::npos);
  CHECK(render_error("{{ '{:999999999}'.format('a') }}").message().find("too large") != std::string::npos);
  CHECK(render_error("{{ 'a'.center(999999999) }}").message().find("too long") != std::string::npos);
  CHECK(render_error("{{ 'a' | indent(999999999, true) }}").message().find("too long") != std::string::npos);
  CHECK(render("{{ '%5s|' % 'a' }}{{ '{:>4}'.format('b') }}") == "    a|   b");
  // Long loops are fine: 100000 iterations with a namespace counter.
  CHECK(render("{% set ns = namespace(n=0) %}{% for i in range(100000) %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}") ==
        "100000");
  // Moderate recursion works.
  CHECK(render("{% macro count(n) %}{% if n > 0 %}{{ count(n - 1) }}{% endif %}{{ n }}{% endmacro %}{{ count(50)|length }}") == "92");
}

TEST_CASE("a parsed template renders repeatedly and keeps no state between renders", "[chat_template]") {
  auto t = ChatTemplate::parse("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}");
  CHECK(t.render(vlm::OrderedJson::parse(R"({"messages": [1, 2]})")) == "2");
  CHECK(t.render(vlm::OrderedJson::parse(R"({"messages": [1]})")) == "1");
  CHECK_THROWS_AS(t.render(vlm::OrderedJson::array()), TemplateError);
}
