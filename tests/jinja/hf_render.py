"""Renders chat templates the way Hugging Face's transformers does, as the
reference the C++ engine is compared against.

transformers compiles a chat template in an ImmutableSandboxedEnvironment
with trim_blocks and lstrip_blocks on and the loopcontrols extension, replaces
the tojson filter with json.dumps (ensure_ascii off), and adds two globals:
raise_exception (raises a TemplateError) and strftime_now (formats the local
time). Messages, tools and the other variables are passed to render().

Input on stdin: a JSON list of {"template": str, "variables": {...},
"now": epoch seconds}. Output on stdout: a JSON list with {"text": str} or
{"error": str} per case.
"""
import json
import sys
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment


def make_environment(now):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.fromtimestamp(now).strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(case):
    try:
        env = make_environment(case.get("now", 0))
        text = env.from_string(case["template"]).render(**case["variables"])
        return {"text": text}
    except Exception as e:  # the C++ side only checks that both refuse
        return {"error": type(e).__name__ + ": " + str(e)}


def main():
    cases = json.load(sys.stdin)
    json.dump([render(c) for c in cases], sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
