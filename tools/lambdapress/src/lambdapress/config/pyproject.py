"""Reading pyproject.toml files so that every mistake points at a file and a line.

`tomllib` reports syntax errors as a message ending in "(at line N, column M)" and knows
nothing about the file; callers would each have to wrap it. This module does it once, and
also finds the line of a key for errors found *after* parsing (a value out of range), since
the parsed dict has lost all positions.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lambdapress.errors import ConfigError

PYPROJECT = "pyproject.toml"
"""The file a project, a service and a package are configured in."""
LOCK_FILE = "uv.lock"
"""uv's lock of the whole workspace, next to the root pyproject."""

_LOCATION = re.compile(r"\s*\(at line (\d+), column \d+\)\s*$")
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def read_config_text(path: Path, *, missing: str, missing_hint: str) -> str:
    """Read a configuration file as UTF-8, or raise a ConfigError that names it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(missing, path=path, hint=missing_hint) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the file: {exc}",
            path=path,
            hint="make it a readable UTF-8 text file",
        ) from None


def load_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning every failure into a ConfigError that names the file."""
    text = read_config_text(
        path,
        missing="file not found",
        missing_hint="create it, or point lambdapress at the folder that has it",
    )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raw = str(exc)
        match = _LOCATION.search(raw)
        line = int(match.group(1)) if match else None
        message = _LOCATION.sub("", raw) if match else raw
        raise ConfigError(
            f"invalid TOML: {message}",
            path=path,
            line=line,
            hint="fix the TOML syntax at that line (quote strings, close brackets)",
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ConfigError(
            f"invalid TOML: {exc}",
            path=path,
            hint="fix the value (numbers must fit in a reasonable size)",
        ) from None


def get_table(data: dict[str, Any], dotted: str, path: Path) -> dict[str, Any] | None:
    """Return the table at `dotted` (e.g. "tool.poetry"), None when absent.

    A key that exists but is not a table (`tool.lambdapress = 3`) is a ConfigError rather
    than a silent None, because the user clearly meant to configure something.
    """
    current: Any = data
    walked: list[str] = []
    for part in dotted.split("."):
        walked.append(part)
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
        if not isinstance(current, dict):
            key = ".".join(walked)
            raise ConfigError(
                f"`{key}` must be a table, not {type(current).__name__}",
                path=path,
                line=find_key_line(path, walked),
                hint=f"write it as a `[{key}]` section",
            )
    return dict(current)


def find_key_line(path: Path, keys: Sequence[str]) -> int | None:
    """Best-effort 1-based line of the dotted key `keys` in the TOML file at `path`.

    Handles the common spellings: `[a.b.c]`, `[a.b]` then `c = ...`, `[a]` then
    `b = { c = ... }` or `b.c = ...`, and a table written only as its sub-tables (`[a.b.c.x]`).
    When the key is not found, the line of the closest enclosing table header is returned,
    which still tells the user where to look. Never raises: a position is a courtesy, not a
    requirement.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    keys = [str(k) for k in keys]
    whole = _header_line(lines, keys) if keys else None
    if whole is not None:  # the key is a table of its own: `[tool.lambdapress.functions.x]`
        return whole
    for split in range(len(keys) - 1, -1, -1):
        table, rest = keys[:split], keys[split:]
        start = _header_line(lines, table) if table else 0
        if start is None:
            continue
        found = _key_in_section(lines, start, rest)
        if found is not None:
            return found
        if table:  # a table written only as its sub-tables (`[a.b.c.x]` for `a.b.c`) first
            return _sub_table_line(lines, keys) or start
    return None


def _header_line(lines: list[str], table: Sequence[str]) -> int | None:
    wanted = ".".join(table)
    for number, text in enumerate(lines, start=1):
        match = _HEADER.match(text)
        if match and _normalise(match.group(1)) == wanted:
            return number
    return None


def _sub_table_line(lines: list[str], table: Sequence[str]) -> int | None:
    """The first header of a table inside `table` (`[a.b.c.x]` for `a.b.c`)."""
    prefix = ".".join(table) + "."
    for number, text in enumerate(lines, start=1):
        match = _HEADER.match(text)
        if match and _normalise(match.group(1)).startswith(prefix):
            return number
    return None


def _key_in_section(lines: list[str], start: int, rest: Sequence[str]) -> int | None:
    """Line of `rest[0]` (or `rest[0].rest[1]...`) between header line `start` and the next."""
    # `start` is 1-based and points at the header (0: top of file); the body follows it.
    first = re.escape(rest[0])
    dotted = r"\s*\.\s*".join(re.escape(k) for k in rest)
    pattern = re.compile(rf'^\s*["\']?(?:{dotted}|{first})["\']?\s*[=.]')
    for number in range(start + 1, len(lines) + 1):
        text = lines[number - 1]
        if _HEADER.match(text):
            return None
        if pattern.match(text):
            return number
    return None


def _normalise(header: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in header.split("."))
