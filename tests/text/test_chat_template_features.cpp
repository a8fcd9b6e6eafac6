// Statements and runtime semantics: loops, scoping, macros, tests, undefined values, Python methods. Expected strings were produced by Python jinja2 3.1 configured as transformers 4.47.1 configures it
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, HF tojson).
#include <catch2/catch.hpp>

#include "chat_template_test_util.hpp"

using vlm::test::render;


TEST_CASE("for loops: loop variable, else, filtering, unpacking, break/continue, recursion", "[chat_template][loops]") {
  CHECK(render("{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }} {% endfor %}", "{\"messages\": [\"a\", \"b\", \"c\"]}") == "1/0/3/2/True/False/3 2/1/2/1/False/False/3 3/2/1/0/False/True/3 ");
  CHECK(render("{% for m in messages %}{{ loop.previtem if loop.previtem is defined else '-' }}>{{ loop.nextitem if loop.nextitem is defined }} {% endfor %}", "{\"messages\": [\"a\", \"b\", \"c\"]}") == "->b a>c b> ");
  CHECK(render("{% for x in [] %}a{% else %}empty{% endfor %}") == "empty");
  CHECK(render("{% for x in [1,2,3,4] if x is even %}{{ x }}:{{ loop.length }} {% endfor %}") == "2:2 4:2 ");
  CHECK(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "{\"d\": {\"b\": 1, \"a\": 2}}") == "b=1;a=2;");
  CHECK(render("{% for c in 'héy' %}[{{ c }}]{% endfor %}") == "[h][é][y]");
  CHECK(render("{% for i in range(10) %}{% if i == 3 %}{% continue %}{% endif %}{% if i == 6 %}{% break %}{% endif %}{{ i }}{% endfor %}") == "01245");
  CHECK(render("{% for i in range(3) %}{{ loop.cycle('odd', 'even') }} {% endfor %}") == "odd even odd ");
  CHECK(render("{% for i in [1,1,2,2,3] %}{% if loop.changed(i) %}{{ i }}{% endif %}{% endfor %}") == "123");
  CHECK(render("{% for item in tree recursive %}<{{ item.name }}{% if item.children %}[{{ loop(item.children) }}]{% endif %}:{{ loop.depth }}>{% endfor %}", "{\"tree\": [{\"name\": \"a\", \"children\": [{\"name\": \"b\", \"children\": [{\"name\": \"c\"}]}]}, {\"name\": \"d\"}]}") == "<a[<b[<c:3>]:2>]:1><d:1>");
}

TEST_CASE("scoping: loop bodies do not leak, if does, namespace carries state", "[chat_template][scope]") {
  CHECK(render("{% set x = 1 %}{% for i in range(2) %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}") == "12121");
  CHECK(render("{% for i in range(3) %}{% if i == 0 %}{% set y = 'a' %}{% endif %}[{{ y }}]{% endfor %}") == "[a][][]");
  CHECK(render("{% if true %}{% set z = 5 %}{% endif %}{{ z }}") == "5");
  CHECK(render("{% set ns = namespace(count=0, found=false) %}{% for i in range(4) %}{% set ns.count = ns.count + i %}{% endfor %}{{ ns.count }} {{ ns.found }}") == "6 False");
  CHECK(render("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = 1, 2 %}{{ t }}") == "12(1, 2)");
  CHECK(render("{% set x %}block {{ 1 + 1 }}{% endset %}[{{ x }}]") == "[block 2]");
  CHECK(render("{% set x | upper %}shout{% endset %}{{ x }}") == "SHOUT");
  CHECK(render("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]") == "3[]");
}

TEST_CASE("macros, call blocks and filter blocks", "[chat_template][macro]") {
  CHECK(render("{% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C', punct='.') }}") == "Hello A! Hello B? Hello C.");
  CHECK(render("{% macro m(a) %}{{ a }}|{{ varargs }}|{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}") == "1|(2, 3)|{'x': 4}");
  CHECK(render("{% macro m(a, b) %}[{{ a }}][{{ b }}]{% endmacro %}{{ m(1) }}") == "[1][]");
  CHECK(render("{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 }}{% endcall %}") == "<b>bold 1</b>");
  CHECK(render("{% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) each([1,2]) %}<{{ x }}>{% endcall %}") == "<1><2>");
  CHECK(render("{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}") == "120");
  CHECK(render("{% macro m() %}{{ y }}{% endmacro %}{% set y = 5 %}{{ m() }}") == "5");
  CHECK(render("{% filter upper %}hello {{ 'world' }}{% endfilter %}") == "HELLO WORLD");
  CHECK(render("{% filter replace('a', 'o') | upper %}banana{% endfilter %}") == "BONONO");
}

TEST_CASE("tests after is", "[chat_template][tests]") {
  CHECK(render("{{ 1 is odd }} {{ 2 is even }} {{ 9 is divisibleby 3 }} {{ x is defined }} {{ x is undefined }} {{ none is none }} {{ 'a' is string }} {{ 1 is number }} {{ 1.0 is float }} {{ 1 is integer }} {{ true is integer }} {{ true is boolean }}") == "True True True False True True True True True True False True");
  CHECK(render("{{ {} is mapping }} {{ [] is iterable }} {{ [] is sequence }} {{ 'x' is sequence }} {{ 1 is iterable }} {{ range is callable }} {{ true is true }} {{ 0 is false }} {{ x is not defined }}") == "True True True True False True True False True");
  CHECK(render("{{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 1 is ne 2 }} {{ 3 is gt 2 }} {{ 3 is ge 3 }} {{ 1 is lt 2 }} {{ 1 is le 0 }} {{ 2 is in [1,2] }} {{ none is sameas none }} {{ 'abc' is lower }} {{ 'ABC' is upper }}") == "True False True True True True False True True True True");
  CHECK(render("{{ 'upper' is filter }} {{ 'nope' is filter }} {{ 'odd' is test }}") == "True False True");
}

TEST_CASE("undefined values render empty and chain like jinja2's Undefined", "[chat_template][undefined]") {
  CHECK(render("{{ d.y }}|{{ d.y is defined }}|{{ d['y'] }}|{{ x }}|{{ x ~ 'a' }}|{{ x|length }}|{{ x|list }}|{{ x is iterable }}", "{\"d\": {}}") == "|False|||a|0|[]|True");
  CHECK(render("{{ l[10] }}|{{ l[10] is defined }}|{{ none.x }}|{% for i in x %}never{% endfor %}", "{\"l\": [1]}") == "|False||");
  CHECK(render("{{ d.items is callable }}|{{ d['items'] }}|{{ d.get('items') }}", "{\"d\": {\"items\": 1}}") == "True|1|1");
  CHECK(render("{{ [1, x] }}|{{ [1, 2]|map(attribute='a')|list }}") == "[1, Undefined]|[Undefined, Undefined]");
}

TEST_CASE("Python str, dict and list methods and global functions", "[chat_template][methods]") {
  CHECK(render("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a b c'.rsplit(' ', 1) }} {{ ' x '.strip() }}|{{ 'xax'.strip('x') }}|{{ ' x '.lstrip() }}|{{ ' x '.rstrip() }}|") == "['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b c'] ['a b', 'c'] x|a|x | x|");
  CHECK(render("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'hello'.replace('l', 'L') }} {{ 'hello'.find('l') }} {{ 'hello'.count('l') }} {{ 'hello world'.title() }} {{ 'hello'.capitalize() }}") == "True True heLLo 2 2 Hello World Hello");
  CHECK(render("{{ '-'.join(['a', 'b']) }} {{ 'abc'.isalpha() }} {{ '123'.isdigit() }} {{ '5'.zfill(3) }} {{ 'a'.rjust(3, '*') }} {{ 'a=b'.partition('=') }} {{ 'a\\nb\\r\\nc'.splitlines() }}") == "a-b True True 005 **a ('a', '=', 'b') ['a', 'b', 'c']");
  CHECK(render("{{ '{} {}'.format(1, 'a') }} {{ '{name}!'.format(name='n') }} {{ '{:>5}|{:^5}'.format('a', 'c') }} {{ '{:.2f}'.format(3.14159) }} {{ '{:05d}'.format(42) }} {{ '{:,}'.format(1234567) }}") == "1 a n!     a|  c   3.14 00042 1,234,567");
  CHECK(render("{{ '%s and %s' | format('a', 'b') }} {{ '%d%%' | format(50) }} {{ '%.2f' | format(3.14159) }} {{ '%5s|%-5s|' | format('a', 'b') }} {{ '%(x)s' | format(x=1) }} {{ '%03d' % 7 }} {{ '%x' % 255 }}") == "a and b 50% 3.14     a|b    | 1 007 ff");
  CHECK(render("{{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }} {{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 5) }}", "{\"d\": {\"a\": 1, \"b\": 2}}") == "['a', 'b'] [1, 2] [('a', 1), ('b', 2)] 1 None 5");
  CHECK(render("{{ namespace(a=1).a }} {{ dict(a=1, b=2) }} {{ range(5)|list }} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }}") == "1 {'a': 1, 'b': 2} [0, 1, 2, 3, 4] [1, 4, 7] [5, 3, 1]");
}
