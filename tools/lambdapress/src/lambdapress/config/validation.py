"""Pydantic's validation errors as one ConfigError: every problem, with its key, line and fix.

Each configuration table (a service's settings, an index of the root pyproject, the manifest)
is validated by a pydantic model; this is the one place that turns what pydantic reports into
what the user reads, so every file's mistakes are worded, located and fixed alike.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lambdapress.config.pyproject import find_key_line
from lambdapress.errors import ConfigError

_MISSING = object()
_REPR_LIMIT = 60
_LISTED = 10  # problems listed; a file wrong everywhere is usually one mistake repeated
_WORDING = {"missing": "required, but not set"}


@dataclass(frozen=True)
class Source:
    """What was validated and how its mistakes are explained."""

    path: Path
    table: tuple[str, ...]
    """The TOML table that was validated (`("tool", "lambdapress")`); keys are named under it."""
    data: Mapping[str, Any]
    """The table as read, to quote the value a wrong key has."""
    fixes: Mapping[str, str] = field(default_factory=dict)
    """Key -> how to fix it, worded for the `fix:` line."""
    known: Sequence[str] = ()
    """The keys a misspelt one is compared with (did you mean ...?)."""
    default_fix: str = "see the lambdapress README for the allowed values"
    wording: Mapping[str, str] = field(default_factory=dict)
    """Pydantic error type -> what to say instead of pydantic's message."""
    skip: int = 0
    """Leading parts of each error's location that are the model's, not the file's."""
    first_key: str = ""
    """The key an error with no location of its own is about."""
    quote_values: bool = True
    """Whether to show the value given: never for tables that may hold credentials."""
    toml: bool = True
    """Whether `path` is TOML (the error then names the key's line)."""
    misspelt_first: bool = False
    """Whether unknown keys come first (and give the line): where a misspelt key usually
    explains a required one missing, as in a storage backend's keys."""


def config_error(
    exc: ValidationError, source: Source, heading: str, *, always_heading: bool = False
) -> ConfigError:
    """One ConfigError for every problem in `exc`: alone, or listed under `heading`."""
    problems: list[str] = []
    hints: list[str] = []
    first_line: int | None = None
    errors = exc.errors()
    if source.misspelt_first:
        errors = sorted(errors, key=lambda e: e["type"] != "extra_forbidden")
    for error in errors:
        raw = error["loc"][source.skip :]
        is_key = "[key]" in raw
        loc = [str(part) for part in raw if part != "[key]"] or (
            [source.first_key] if source.first_key else []
        )
        name = loc[0] if loc else ""
        key = ".".join([*source.table, *loc])
        if error["type"] == "extra_forbidden" and len(loc) > 1:
            # Inside a key's value: its siblings are not the table's keys; say what it holds.
            problems.append(f"unknown key `{key}`")
            hints.append(source.fixes.get(name, source.default_fix))
        elif error["type"] == "extra_forbidden":
            problems.append(f"unknown key `{key}`")
            close = difflib.get_close_matches(name, list(source.known), n=1)
            known = ", ".join(source.known)
            hints.append(
                f"did you mean `{close[0]}`? (known keys: {known})"
                if close
                else f"remove it; known keys: {known}"
            )
        else:
            wording = {**_WORDING, **source.wording}
            message = wording.get(error["type"]) or str(error["msg"]).removeprefix("Value error, ")
            got = _value_at(source.data, raw) if source.quote_values and not is_key else _MISSING
            shown = f" (got {_short_repr(got)})" if got is not _MISSING else ""
            problems.append(f"`{key}`: {message}{shown}" if key else f"{message}{shown}")
            hints.append(source.fixes.get(name, source.default_fix))
        if first_line is None and source.toml:
            first_line = find_key_line(source.path, [*source.table, *loc])
    if len(problems) > _LISTED:
        problems[_LISTED:] = [f"... and {len(problems) - _LISTED} more"]
    unique_hints = list(dict.fromkeys(hints))
    if len(problems) == 1 and not always_heading:
        return ConfigError(problems[0], path=source.path, line=first_line, hint=unique_hints[0])
    return ConfigError(
        f"{heading}:\n" + "\n".join(f"  - {p}" for p in problems),
        path=source.path,
        line=first_line,
        hint="; ".join(unique_hints),
    )


def _short_repr(value: object) -> str:
    """A value as the user wrote it, cut short.

    A 5000-digit number must not fill the screen (nor raise: Python refuses to print ints of
    more than 4300 digits).
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"a number of about {int(value.bit_length() * 0.30103)} digits"
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


def _value_at(table: Mapping[str, Any], loc: Sequence[int | str]) -> object:
    current: object = table
    for part in loc:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
            continue
        if isinstance(current, list) and isinstance(part, int) and part < len(current):
            current = current[part]
            continue
        return _MISSING
    return current
