// Lexing and expression syntax: whitespace control, literals, Python printing, operators. Expected strings were produced by Python jinja2 3.1 configured as transformers 4.47.1 configures it
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, HF tojson).
#include <catch2/catch.hpp>

#include "chat_template_test_util.hpp"

using vlm::test::render;


TEST_CASE("whitespace control matches trim_blocks, lstrip_blocks, - and +", "[chat_template][syntax]") {
  CHECK(render("a  {% if true %}\n  x\n  {% endif %}\n b") == "a    x\n b");
  CHECK(render("  {%- if true -%}  x  {%- endif -%}  y") == "xy");
  CHECK(render("a\n    {%+ if true %}\n    yes\n    {% endif +%}\nz") == "a\n        yes\n\nz");
  CHECK(render("x {# comment #}\n y\n  {# c2 #}\nz") == "x  y\nz");
  CHECK(render("x {#- comment -#}   y") == "xy");
  CHECK(render("{{ 'a' }}\n{{ 'b' }}\n") == "a\nb");
  CHECK(render("{{- ' a ' -}}   \n  {{ 'b' }}") == " a b");
  CHECK(render("{% raw %}{{ not parsed }}{% endraw %}\nafter") == "{{ not parsed }}after");
  CHECK(render("  {%- raw -%}  {{ x }}  {%- endraw -%}  y") == "{{ x }}y");
  CHECK(render("line1\r\nline2\rline3\n") == "line1\nline2\nline3");
  CHECK(render("a\n\n") == "a\n");
  CHECK(render("\t{% if true %}\ttab{% endif %}") == "\ttab");
  CHECK(render("{% for i in range(3) %}\n  {{ i }}\n{% endfor %}\n") == "  0\n  1\n  2\n");
  CHECK(render("{% for i in range(3) -%}\n  {{ i }}\n{%- endfor %}") == "012");
  CHECK(render("x {%- if true %} y {% endif -%} z") == "x y z");
  CHECK(render("  {{ 'variables are not lstripped' }}\n  {% if true %}blocks are{% endif %}") == "  variables are not lstripped\nblocks are");
}

TEST_CASE("literals print as Python prints them", "[chat_template][syntax]") {
  CHECK(render("{{ 1 }} {{ 1.0 }} {{ -0.0 }} {{ 1e100 }} {{ 1.5e-7 }} {{ 0.1 + 0.2 }} {{ 10/3 }} {{ 1_000 }} {{ 0x1F }} {{ 0b101 }} {{ 0o17 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }}") == "1 1.0 -0.0 1e+100 1.5e-07 0.30000000000000004 3.3333333333333335 1000 31 5 15 1e+16 1000000000000000.0 0.0001");
  CHECK(render("{{ true }} {{ false }} {{ none }} {{ True }} {{ None }} {{ [] }} {{ {} }} {{ () }} {{ (1,) }} {{ (1, 2) }}") == "True False None True None [] {} () (1,) (1, 2)");
  CHECK(render("{{ 'a\\nb' }} {{ ['a\\nb', \"it's\", 'x\"y', 'both\\'\"'] }} {{ '\\u00e9\\x41' }} {{ ['\\u00e9', '\\x01'] }}") == "a\nb ['a\\nb', \"it's\", 'x\"y', 'both\\'\"'] éA ['é', '\\x01']");
  CHECK(render("{{ {'a': [1, {'b': none}], 2: 'x'} }}") == "{'a': [1, {'b': None}], 2: 'x'}");
  CHECK(render("{{ 'abc' 'def' }}") == "abcdef");
}

TEST_CASE("operators follow jinja2 precedence and Python semantics", "[chat_template][syntax]") {
  CHECK(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % -3 }} {{ 7.5 // 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 'ab' * 3 }} {{ [1] * 2 }} {{ [1] + [2] }} {{ 'a' ~ 1 ~ none ~ true }}") == "3 -4 -2 3.0 1024 0.5 ababab [1, 1] [1, 2] a1NoneTrue");
  CHECK(render("{{ 1 + true }} {{ 1 == 1.0 }} {{ [1,2] < [1,3] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' in 'cat' }} {{ 'k' in {'k':1} }} {{ 'z' not in 'abc' }}") == "2 True True True False True True True");
  CHECK(render("{{ not true }} {{ true and 'x' }} {{ '' or 'y' }} {{ 0 and 1 }} {{ none or [] }} {{ not none is none }}") == "False x y 0 [] False");
  CHECK(render("{{ 'yes' if 1 else 'no' }} {{ 'yes' if 0 }}|{{ 'a' if false else 'b' if false else 'c' }}") == "yes |c");
  CHECK(render("{{ -2 ** 2 }} {{ - 3|abs }} {{ 2 + 3 * 4 }} {{ 10 - 2 - 3 }} {{ 2 ** 3 ** 2 }}") == "4 3 14 5 64");
  CHECK(render("{{ [1,2,3][1:] }} {{ [1,2,3][::-1] }} {{ 'hello'[1:4] }} {{ 'hello'[-1] }} {{ [1,2,3,4,5][::2] }} {{ 'héllo'[::-1] }} {{ [1,2,3][5:] }} {{ (1,2,3)[1:] }} {{ [1,2,3,4][-3:-1] }}") == "[2, 3] [3, 2, 1] ell o [1, 3, 5] olléh [] (2, 3) [2, 3]");
}
