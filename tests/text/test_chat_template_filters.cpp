// Builtin filters, with Hugging Face's tojson. Expected strings were produced by Python jinja2 3.1 configured as transformers 4.47.1 configures it
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, HF tojson).
#include <catch2/catch.hpp>

#include "chat_template_test_util.hpp"

using vlm::test::render;


TEST_CASE("filters", "[chat_template][filters]") {
  CHECK(render("{{ tools | tojson }}", "{\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Gét \\\"weather\\\"\\n\", \"parameters\": {\"type\": \"object\", \"required\": [\"city\"]}}}]}") == "[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Gét \\\"weather\\\"\\n\", \"parameters\": {\"type\": \"object\", \"required\": [\"city\"]}}}]");
  CHECK(render("{{ tools | tojson(indent=2) }}", "{\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {}, \"required\": []}}}]}") == "[\n  {\n    \"type\": \"function\",\n    \"function\": {\n      \"name\": \"f\",\n      \"parameters\": {\n        \"type\": \"object\",\n        \"properties\": {},\n        \"required\": []\n      }\n    }\n  }\n]");
  CHECK(render("{{ {'b': 1.0, 'a': [true, none, 1e20, 'x\\u0001\\u007f']} | tojson(sort_keys=true) }} {{ {'a': 1} | tojson(separators=(',', ':')) }} {{ {1: 2, true: 3, none: 4} | tojson }} {{ (1, 2) | tojson }}") == "{\"a\": [true, null, 1e+20, \"x\\u0001\"], \"b\": 1.0} {\"a\":1} {\"1\": 3, \"null\": 4} [1, 2]");
  CHECK(render("{{ 'é' | tojson }} {{ 'é' | tojson(ensure_ascii=true) }} {{ '😀' | tojson(ensure_ascii=true) }}") == "\"é\" \"\\u00e9\" \"\\ud83d\\ude00\"");
  CHECK(render("{{ '  hi  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'hello world-foo(bar' | title }}|{{ 'hELLO' | capitalize }}|{{ 'Hi' | upper }}{{ 'Hi' | lower }}") == "hi|hi|Hello World-Foo(Bar|Hello|HIhi");
  CHECK(render("{{ [1,2,3] | join(', ') }} {{ [1,2,3] | join }} {{ users | join(', ', attribute='name') }}", "{\"users\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}") == "1, 2, 3 123 a, b");
  CHECK(render("{{ [1,2,3] | length }} {{ 'héllo' | length }} {{ {'a':1} | count }} {{ x | length }} {{ [1,2,3] | first }} {{ [1,2,3] | last }} {{ 'abc' | first }} {{ [] | first }}|") == "3 5 1 0 1 3 a |");
  CHECK(render("{{ 'a-b-c' | replace('-', '+') }} {{ 'aaa' | replace('a', 'b', 2) }}") == "a+b+c bba");
  CHECK(render("{{ x | default('dflt') }} {{ '' | default('e') }} {{ '' | default('e', true) }} {{ none | d('n', boolean=true) }} {{ 0 | default(5) }}") == "dflt  e n 0");
  CHECK(render("{{ msgs | selectattr('role', 'equalto', 'user') | list }} {{ msgs | rejectattr('role', 'eq', 'user') | map(attribute='content') | list }}", "{\"msgs\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"bot\", \"content\": \"b\"}]}") == "[{'role': 'user', 'content': 'a'}] ['b']");
  CHECK(render("{% if msgs | selectattr('role', 'eq', 'nobody') %}generators are truthy{% endif %}", "{\"msgs\": [{\"role\": \"user\"}]}") == "generators are truthy");
  CHECK(render("{{ msgs | selectattr('flag') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ [1,2,3,4] | reject('odd') | list }}", "{\"msgs\": [{\"flag\": true}, {\"flag\": false}, {}]}") == "[{'flag': True}] [1, 'a'] [2, 4]");
  CHECK(render("{{ ['1', '2'] | map('int') | list }} {{ ['a', 'b'] | map('upper') | join }} {{ [1.5, 2.5] | map('round') | list }}") == "[1, 2] AB [2.0, 2.0]");
  CHECK(render("{{ [3, 1, 2] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ ['b', 'A', 'c'] | sort }} {{ ['b', 'A', 'c'] | sort(case_sensitive=true) }} {{ users | sort(attribute='age') | map(attribute='name') | list }}", "{\"users\": [{\"name\": \"x\", \"age\": 3}, {\"name\": \"y\", \"age\": 1}]}") == "[1, 2, 3] [3, 2, 1] ['A', 'b', 'c'] ['A', 'b', 'c'] ['y', 'x']");
  CHECK(render("{{ [1, 2, 1, 3] | unique | list }} {{ [1, 2] | reverse | list }} {{ 'abc' | reverse }} {{ {'b': 1, 'a': 2} | dictsort }} {{ {'b': 1, 'a': 2} | dictsort(by='value') }} {{ {'a': 1} | items | list }}") == "[1, 2, 3] [2, 1] cba [('a', 2), ('b', 1)] [('b', 1), ('a', 2)] [('a', 1)]");
  CHECK(render("{{ [1, 2, 3] | sum }} {{ [1, 2, 3] | min }} {{ [1, 2, 3] | max }} {{ [] | max }}| {{ users | sum(attribute='n') }}", "{\"users\": [{\"n\": 2}, {\"n\": 5}]}") == "6 1 3 | 7");
  CHECK(render("{{ '42' | int }} {{ '42.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '3.5' | float }} {{ 'x' | float }} {{ 3 | float }} {{ true | int }}") == "42 42 0 7 3 3.5 0.0 3.0 1");
  CHECK(render("{{ -3 | abs }} {{ -3.5 | abs }} {{ 3.14159 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 2.4 | round(method='ceil') }} {{ 2.6 | round(method='floor') }} {{ 5 | round }}") == "3 3.5 3.14 2.0 4.0 2.67 3.0 2.0 5");
  CHECK(render("{{ 5 | string }} {{ none | string }} {{ [1] | string }} {{ 'abc' | list }} {{ 'a b  c' | wordcount }}") == "5 None [1] ['a', 'b', 'c'] 3");
  CHECK(render("{{ 'line1\\nline2\\n\\nline4' | indent }}|{{ 'a\\nb' | indent(2, first=true) }}|{{ 'a\\n\\nb' | indent(2, blank=true) }}|{{ 'a\\nb' | indent('> ') }}") == "line1\n    line2\n\n    line4|  a\n  b|a\n  \n  b|a\n> b");
  CHECK(render("{{ 'x' | center(5) }}|{{ 'ab' | center(7) }}|{{ 'hello' | truncate(3, killwords=true, end='') }}|{{ 'hello world foo bar baz qux' | truncate(15) }}|{{ 'a b' | truncate(20) }}") == "  x  |   ab  |hello|hello world...|a b");
  CHECK(render("{{ '<b>x</b> &amp; y' | striptags }}|{{ '<a href=\"x\">' | e }}|{{ '<x>' | safe }}") == "x & y|&lt;a href=&#34;x&#34;&gt;|<x>");
  CHECK(render("{{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3, 4, 5] | batch(2, 0) | list }} {{ [1, 2, 3, 4, 5] | slice(2) | list }}") == "[[1, 2], [3, 4], [5]] [[1, 2], [3, 4], [5, 0]] [[1, 2, 3], [4, 5]]");
  CHECK(render("{{ 'été'.upper() }} {{ 'ÉTÉ'.lower() }} {{ 'straße'|upper }}") == "ÉTÉ été STRASSE");
}
