"""Template v0.2.0: a service's tests take API Gateway events from the lambdapress pytest plugin.

Up to v0.1.0, `tests/conftest.py` of a service defined an `http_event(method, path, body=...,
raw_body=...)` fixture. v0.2.0 drops it for the plugin's `http_api_event(method, path,
json_body=..., body=...)`. `copier update` rewrites the files the template generated; this
migration rewrites the tests the team wrote on top of them, which the template cannot know:

    http_event("POST", "/orders", body={"name": "x"})
        -> http_api_event("POST", "/orders", json_body={"name": "x"})
    http_event(..., raw_body=b"...")  ->  http_api_event(..., body=b"...")

It runs in the service's folder (copier's working directory for migrations), uses only the
standard library, and leaves files without `http_event` untouched.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

NAME = re.compile(r"\bhttp_event\b")
KEYWORD = re.compile(r"\b(raw_body|body)(\s*=)")


def rewrite_calls(text: str) -> str:
    """Rename the keywords of every `http_api_event(...)` call (after the fixture rename).

    Only the call's own keywords change: `body=` of a call nested in its arguments stays.
    """
    out: list[str] = []
    position = 0
    for match in re.finditer(r"\bhttp_api_event\(", text):
        start = match.end()
        if start < position:
            continue
        end = _closing(text, start)
        out.append(text[position:start])
        out.append(_rename_top_level_keywords(text[start:end]))
        position = end
    out.append(text[position:])
    return "".join(out)


def _closing(text: str, start: int) -> int:
    depth, end = 1, start
    while end < len(text) and depth:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(text[end], 0)
        end += 1
    return end


def _rename_top_level_keywords(arguments: str) -> str:
    depth = 0
    out: list[str] = []
    index = 0
    while index < len(arguments):
        char = arguments[index]
        if depth == 0:
            match = KEYWORD.match(arguments, index)
            if match and (index == 0 or not arguments[index - 1].isidentifier()):
                renamed = "body" if match.group(1) == "raw_body" else "json_body"
                out.append(renamed + match.group(2))
                index = match.end()
                continue
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
        out.append(char)
        index += 1
    return "".join(out)


def migrate(tests: Path) -> list[Path]:
    changed = []
    for path in sorted(tests.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if not NAME.search(text):
            continue
        new = rewrite_calls(NAME.sub("http_api_event", text))
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


if __name__ == "__main__":
    for path in migrate(Path("tests")):
        print(f"v0.2.0: tests now use the plugin's http_api_event: {path}", file=sys.stderr)
