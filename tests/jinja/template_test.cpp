// Each construct the engine supports, rendered by it and by python3-jinja2
// under Hugging Face's settings: the outputs must be the same bytes, and
// where jinja2 raises, the engine must refuse too.
#include "jinja/template.hpp"

#include <catch2/catch.hpp>

#include "oracle.hpp"

using pagedserve::jinja::RenderError;
using pagedserve::jinja::Template;
using pagedserve::jinja::TemplateError;
using pagedserve::testing::RenderCase;

namespace {

const char* const kVars = R"json({"messages": [{"role": "system", "content": "  Be brief.  "},
  {"role": "user", "content": "Hi, ünïcode 🙂 \"q\" 'a'\n<tag>"},
  {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1, "y": [1.5, null, true]}}}]},
  {"role": "tool", "content": "42"}],
  "tools": null, "n": 7, "f": 2.5, "big": 1e20, "small": 0.0001, "s": "a-b c(d)", "d": {"b": 1, "a": [2, 3], "items": "key"},
  "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": true, "empty": "", "zero": 0, "lst": [3, 1, 2]})json";

// Snippets of each construct; each is rendered with kVars.
const std::vector<std::string> kConstructs = {
    // output and Python printing
    "{{ n }}|{{ f }}|{{ big }}|{{ small }}|{{ none }}|{{ true }}|{{ undefined_name }}|{{ lst }}|{{ d }}",
    "{{ messages[2] }}", "{{ (1, 'a') }}|{{ (1,) }}|{{ () }}", "{{ 1.0 }}|{{ 10 / 4 }}|{{ 10 // 4 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 2 ** 10 }}|{{ 1e3 }}",
    "{{ 'it''s' }}{{ \"x\\ny\\t\\u00e9\" }}", "{{ 1 + 2 * 3 - 4 }}|{{ 'a' ~ 1 ~ none ~ true }}|{{ 'ab' * 3 }}|{{ [1] + [2] }}",
    "{{ 0.1 + 0.2 }}|{{ 1/3 }}|{{ 2.0 * 3 }}|{{ 1e16 }}|{{ 123456789.125 }}",
    // whitespace control, trim_blocks, lstrip_blocks
    "a\n  {% if true %}\n    b\n  {% endif %}\nc", "a  {%- if true -%}  b  {%- endif -%}  c", "x {{- ' y ' -}} z",
    "  {# comment #}\nx\n{#- c -#}  y", "{% if true %}\n\n{% endif %}", "a\n    {%+ if true %}b{% endif +%}\nc", "line\n\t{% set x = 1 %}\n{{ x }}",
    "{{ 'a' }}  {% if true %}x{% endif %}", "\n{% for i in [1,2] %}\n  {{ i }}\n{% endfor %}\n", "a\r\nb\r\n{% if true %}\r\nc{% endif %}\n",
    // if / elif / else, tests
    "{% if n > 10 %}big{% elif n > 5 %}mid{% else %}small{% endif %}",
    "{{ x is defined }}{{ n is defined }}{{ tools is none }}{{ s is string }}{{ d is mapping }}{{ lst is iterable }}{{ s is sequence }}",
    "{{ n is number }}{{ f is number }}{{ true is boolean }}{{ true is true }}{{ false is false }}{{ 1 is true }}{{ n is odd }}{{ n is even }}",
    "{{ n is divisibleby 7 }}{{ n is divisibleby(2) }}{{ s is not string }}{{ d is not none }}{{ x is undefined }}{{ 'a' is in 'abc' }}",
    "{{ n is integer }}{{ f is float }}{{ none is none }}{{ none is sameas none }}{{ n is eq 7 }}{{ n is equalto 8 }}{{ n is gt 3 }}",
    // comparisons, logic, inline if
    "{{ 1 < 2 < 3 }}{{ 1 < 3 < 2 }}{{ 'a' < 'b' }}{{ [1,2] < [1,3] }}{{ 1 == 1.0 }}{{ true == 1 }}{{ 'a' != 'b' }}",
    "{{ 'b' in 'abc' }}{{ 2 in lst }}{{ 'a' in d }}{{ 'z' not in d }}{{ 5 not in lst }}{{ 1 in [] }}{{ 'x' in undefined_name }}",
    "{{ n and s }}|{{ zero and s }}|{{ zero or empty or 'last' }}|{{ not n }}|{{ not not empty }}",
    "{{ 'yes' if n else 'no' }}|{{ 'yes' if zero else 'no' }}|{{ 'only' if zero }}|{{ 'a' if zero else 'b' if n else 'c' }}",
    // attribute, item, slicing
    "{{ messages[0].role }}{{ messages[0]['role'] }}{{ messages.0.role }}{{ messages[-1].content }}{{ messages[10] }}",
    "{{ d['items'] }}|{{ d.missing }}|{{ none.attr }}|{{ n.attr }}",
    "{{ s[0] }}{{ s[-1] }}{{ s[1:3] }}{{ s[::-1] }}{{ s[::2] }}{{ s[-3:] }}{{ s[:100] }}{{ lst[::-1] }}{{ lst[1:] }}{{ messages[1].content[::-1] }}",
    "{{ messages[1].content[0:4] }}|{{ messages[1].content|length }}|{{ messages[1].content[5:6] }}",
    // string methods
    "[{{ messages[0].content.strip() }}][{{ messages[0].content.lstrip() }}][{{ messages[0].content.rstrip() }}][{{ 'xxaxx'.strip('x') }}]",
    "{{ s.split() }}{{ s.split('-') }}{{ 'a,b,,c'.split(',') }}{{ 'a b c'.split(' ', 1) }}{{ '  a  b '.split() }}{{ 'a\\nb\\r\\nc'.splitlines() }}",
    "{{ s.startswith('a-') }}{{ s.endswith('d)') }}{{ s.startswith(('x', 'a')) }}{{ s.replace('-', '+') }}{{ 'aaa'.replace('a', 'b', 2) }}",
    "{{ s.upper() }}{{ 'MiXeD'.lower() }}{{ 'hello world-x'.title() }}{{ 'hELLO'.capitalize() }}{{ s.find('c') }}{{ s.find('z') }}{{ 'abab'.count('ab') }}",
    "{{ ', '.join(['a', 'b']) }}{{ '12'.isdigit() }}{{ 'a1'.isdigit() }}{{ ' \\n'.isspace() }}",
    // dict methods
    "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d.keys() %}{{ k }}{% endfor %}{% for v in d.values() %}{{ v }}{% endfor %}",
    "{{ d.get('b') }}|{{ d.get('zz') }}|{{ d.get('zz', 'dflt') }}|{{ d.get('a')[1] }}",
    // literals
    "{{ {'a': 1, 'b': [1, 2], 'c': {'d': none}} }}|{{ [1, 'two', 3.0, [4]] }}|{{ {'k': 'v'}['k'] }}|{{ {} }}|{{ [] }}",
    // for loops
    "{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
    "{% for x in lst %}{{ loop.previtem }}-{{ loop.nextitem }}|{% endfor %}", "{% for x in [] %}x{% else %}empty{% endfor %}",
    "{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{{ loop.length }} {% endfor %}",
    "{% for m in messages|selectattr('role', 'equalto', 'user') %}{{ m.role }}{% endfor %}",
    "{% for x in lst %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "{% for c in 'héllo' %}{{ c }}.{% endfor %}{% for k in d %}{{ k }}{% endfor %}{% for x in range(3) %}{{ x }}{% endfor %}{{ range(2, 10, 3)|list }}",
    "{% for i in range(2) %}{% for j in range(2) %}{{ loop.index }}{{ i }}{{ j }} {% endfor %}{{ loop.index }}|{% endfor %}",
    "{% for m in messages[::-1] %}{{ m.role }}{% endfor %}|{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}",
    // set, namespace, block set
    "{% set x = 1 %}{% for i in lst %}{% set x = i %}{% endfor %}{{ x }}",
    "{% set ns = namespace(found=false, count=0) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}{% endif %}{% set ns.count = ns.count + 1 %}{% endfor %}{{ ns.found }}{{ ns.count }}",
    "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = 1, 2 %}{{ t }}",
    "{% set block %}\n  inner {{ n }}\n{% endset %}[{{ block }}]",
    "{% set ns = namespace() %}{% set ns.x = 'v' %}{{ ns.x }}{{ ns.missing is defined }}",
    // macros and call
    "{% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', '?') }} {{ greet(punct='.', name='c') }} {{ greet() }}",
    "{% macro render(m) %}{{ m.role }}:{{ m.content|trim }}{% endmacro %}{% for m in messages %}{{ render(m) }}\n{% endfor %}",
    "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inside {{ n }}{% endcall %}",
    "{% macro rec(k) %}{% if k > 0 %}{{ k }}{{ rec(k - 1) }}{% endif %}{% endmacro %}{{ rec(5) }}",
    // filters
    "{{ messages[1].content|tojson }}|{{ d|tojson }}|{{ d|tojson(indent=2) }}|{{ lst|tojson(separators=(',', ':')) }}|{{ d|tojson(sort_keys=true) }}",
    "{{ messages[2].tool_calls[0].function.arguments|tojson }}|{{ f|tojson }}|{{ none|tojson }}|{{ 'é\\u0001'|tojson }}|{{ messages|tojson(indent=4) }}",
    "[{{ messages[0].content|trim }}]{{ s|length }}{{ lst|count }}{{ lst|first }}{{ lst|last }}{{ s|first }}{{ lst|join(', ') }}{{ lst|join }}",
    "{{ x|default('dflt') }}|{{ empty|default('dflt') }}|{{ empty|default('dflt', true) }}|{{ x|d('D') }}|{{ none|default('z') }}",
    "{{ s|upper }}{{ 'AbC'|lower }}{{ 'hELLO wORLD'|capitalize }}{{ 'hello big-world (x)'|title }}{{ s|replace('-', '_') }}{{ n|string }}{{ none|string }}",
    "{{ '42'|int }}{{ '4.7'|int }}{{ 'x'|int }}{{ 3.9|int }}{{ '2.5'|float }}{{ 3|float }}{{ 'x'|float }}{{ '  7 '|int }}",
    "{{ s|list }}{{ d|list }}{{ d|items|list }}{{ messages|map(attribute='role')|list }}{{ messages|map(attribute='role')|join(',') }}",
    "{{ messages|selectattr('role', 'eq', 'user')|list|length }}{{ messages|rejectattr('role', 'eq', 'user')|map(attribute='role')|list }}",
    "{{ lst|select('odd')|list }}{{ lst|reject('odd')|list }}{{ [0, 1, '', 'a']|select|list }}{{ messages|selectattr('tool_calls')|list|length }}",
    "{{ ['a', 'b']|map('upper')|list }}{{ messages|map(attribute='name', default='anon')|list }}",
    "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb\\n\\nc'|indent(2, true) }}|{{ 'a\\nb\\n\\nc'|indent(2, first=true, blank=true) }}|{{ 'x'|indent('>> ', true) }}",
    "{{ '<a href=\"x\">&</a>'|safe }}{{ '<a href=\"x\">&\\'</a>'|escape }}{{ 2.5|round }}{{ 3.5|round }}{{ 2.675|round(2) }}{{ 7|round }}{{ 2.1|round(0, 'ceil') }}{{ 2.9|round(method='floor') }}",
    "{{ -3|abs }}{{ (-2.5)|abs }}{{ -n }}{{ +n }}{{ -f|abs }}",
    "{% if messages|selectattr('role', 'equalto', 'nobody') %}generators are true{% endif %}",
    // functions
    "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H') }}", "{{ dict(a=1, b='x') }}|{{ namespace(a=1).a }}",
    // undefined
    "[{{ undefined_name }}][{{ undefined_name|length }}][{{ undefined_name|default('u') }}][{{ undefined_name|string }}][{{ undefined_name ~ 'x' }}]",
    "{% for x in undefined_name %}x{% else %}none{% endfor %}{{ undefined_name is iterable }}{{ not undefined_name }}",
    // runtime errors both raise
    "{{ raise_exception('Conversation roles must alternate') }}", "{{ undefined_name.attr }}", "{{ undefined_name + 1 }}", "{{ 'a' + 1 }}",
    "{{ 1 / 0 }}", "{{ messages|selectattr('role')|length }}", "{{ lst.append(4) }}", "{{ 1 < 'a' }}", "{{ undefined_name[0] }}",
    "{% set x = 1 %}{% set x.y = 2 %}", "{{ undefined_name|tojson }}", "{{ ns.x }}",
};

}  // namespace

TEST_CASE("every supported construct renders byte for byte as python3-jinja2 does", "[jinja]") {
  std::vector<RenderCase> cases;
  for (const auto& t : kConstructs) cases.push_back({t, kVars});
  const auto reference = pagedserve::testing::render_with_jinja2(cases);
  REQUIRE(reference.size() == cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("template: " << cases[i].template_source);
    INFO("jinja2 error: " << reference[i].error);
    const auto ours = pagedserve::testing::render_with_engine(cases[i]);
    INFO("engine error: " << ours.error);
    REQUIRE(ours.text.has_value() == reference[i].text.has_value());
    if (ours.text) CHECK(*ours.text == *reference[i].text);
  }
}

TEST_CASE("raise_exception's message is the render error's message", "[jinja]") {
  Template t("{% if messages|length == 0 %}{{ raise_exception('No messages given') }}{% endif %}ok");
  REQUIRE_THROWS_WITH(t.render({{"messages", pagedserve::jinja::Value::list({})}}), "No messages given");
  CHECK(t.render({{"messages", pagedserve::jinja::Value::list({1})}}) == "ok");
}

TEST_CASE("constructs the engine does not implement are refused at load with their line", "[jinja]") {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"ok\n{% include 'other.jinja' %}", "template line 2: the {% include %} tag is not supported"},
      {"{% extends 'base' %}", "the {% extends %} tag is not supported"},
      {"{% raw %}x{% endraw %}", "the {% raw %} tag is not supported"},
      {"{% filter upper %}x{% endfilter %}", "the {% filter %} tag is not supported"},
      {"a\nb\n{{ x|wordwrap(3) }}", "template line 3: the filter 'wordwrap' is not supported"},
      {"{{ x is escaped }}", "the test 'escaped' is not supported"},
      {"{{ lipsum(2) }}", "the function 'lipsum' is not defined"},
      {"{{ 'a {0}'.format(x) }}", "the method .format() is not supported"},
      {"{% for x in xs recursive %}{% endfor %}", "recursive for loops are not supported"},
      {"{% set x | upper %}a{% endset %}", "filtered block set"},
      {"{{ f(*args) }}", "*args and **kwargs"},
      {"{% if x %}never closed", "the template ends inside a block"},
      {"{{ x ", "never closed"},
      {"{{ 'unterminated }}", "a string literal is never closed"},
      {"{{ x[1, 2] }}", "several indices"},
  };
  for (const auto& [source, message] : refused) {
    INFO(source);
    REQUIRE_THROWS_AS(Template(source), TemplateError);
    REQUIRE_THROWS_WITH(Template(source), Catch::Contains(message));
  }
}

TEST_CASE("a runaway template stops at the output, step and nesting limits", "[jinja]") {
  pagedserve::jinja::RenderOptions options;
  options.limits.max_output_bytes = 1 << 16;
  options.limits.max_steps = 100000;
  CHECK_THROWS_WITH(Template("{% for i in range(100000) %}xxxxxxxxxx{% endfor %}").render({}, options),
                    Catch::Contains("output passed"));
  CHECK_THROWS_WITH(Template("{% for i in range(50000) %}{% for j in range(50000) %}{% endfor %}{% endfor %}").render({}, options),
                    Catch::Contains("steps"));
  CHECK_THROWS_WITH(Template("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").render({}, options),
                    Catch::Contains("nested deeper"));
  CHECK_THROWS_WITH(Template("{{ 'x' * 100000000 }}").render({}, options), Catch::Contains("longer than"));
  CHECK_THROWS_WITH(Template("{{ range(1000000000)|length }}").render({}, options), Catch::Contains("range()"));
}
