"""Is the lambdapress a project locks older than the template version the project is at?

A generated project pins lambdapress as a development dependency at the template version it
was rendered from; `copier update` moves that pin and re-locks. When the lock could not be
made (no network, a private index without credentials) or a developer keeps an old lock, the
project would silently build with an older tool than its template files expect. The tool's
version follows the template's (tool 0.3.0 is template v0.3.0), so comparing the locked tool
with the answers file's `_commit` is meaningful; the CLI prints the one-line warning this
returns at the start of every command.

The template version itself (`template_version`, `version_text`: what `--version` prints) is
read here too, importing the answers file's reader only when there is such a file.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.version import InvalidVersion, Version

from lambdapress.config.pyproject import LOCK_FILE
from lambdapress.errors import ConfigError

ANSWERS_FILE = ".copier-answers.yml"
"""Copier's record of the template a folder came from (read by `answers`; also exported there).

It is named here, with the two questions every command asks of it (`template_version`,
`version_text`), so that `lambdapress --version` and the check before each command import
`answers`, and pydantic's models with it, only inside a generated project.
"""


def release_of(template: str) -> Version | None:
    """The release a template version names: `v0.3.0` -> 0.3.0.

    `v0.3.0-2-g1a2b3c4` (copier's name for a later, untagged commit) gives 0.3.0 as well;
    anything else gives None: nothing to compare with. That includes a bare commit hash, which
    is what copier records from a template repository without tags, even an all-digit one.
    """
    if not template.startswith("v"):
        return None
    base = template.split("-", 1)[0].removeprefix("v")
    try:
        return Version(base)
    except InvalidVersion:
        return None


def project_root(start: Path) -> Path | None:
    """The folder at or above `start` whose answers file is the project's (not a service's)."""
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / ANSWERS_FILE).is_file() and template_version(folder) is not None:
            return folder
    return None


def locked_version(lock: Path) -> Version | None:
    """The version of lambdapress that `uv.lock` pins; None without a lock or such an entry.

    Every command asks (before it starts), so the lock is not parsed whole when it can be
    avoided: uv writes each package as `[[package]]`, `name = ...`, `version = ...`, in that
    order, and the entry is read from those lines. A lock written otherwise is parsed.
    """
    try:
        text = lock.read_text(encoding="utf-8")
    except OSError:
        return None
    if '"lambdapress"' not in text:
        return None
    found = _LOCKED_TOOL.search(text)
    try:
        if found is not None:
            return Version(found.group(1))
        data = tomllib.loads(text)
        entry = next(p for p in data.get("package", []) if p.get("name") == "lambdapress")
        return Version(str(entry["version"]))
    except (tomllib.TOMLDecodeError, StopIteration, KeyError, InvalidVersion):
        return None


_LOCKED_TOOL = re.compile(
    r'^\[\[package\]\]\r?\nname = "lambdapress"\r?\nversion = "([^"\n]+)"', re.MULTILINE
)


def older_tool_warning(start: Path, running: str) -> str | None:
    """Say so in one line when the project's lock pins a tool older than its template.

    Without a lock, the running tool is compared. None when it is not older, or outside a
    generated project.
    """
    root = project_root(start)
    if root is None:
        return None
    template = template_version(root)
    expected = release_of(template) if template else None
    if expected is None:
        return None
    tool = locked_version(root / LOCK_FILE)
    where = f"{LOCK_FILE} pins"
    if tool is None:
        try:
            tool = Version(running)
        except InvalidVersion:
            return None
        where = "this is"
    if tool >= expected:
        return None
    return (
        f"warning: {where} lambdapress {tool}, older than the project's template {template} "
        f"({ANSWERS_FILE}): run `uv lock` (or any nox session) and commit {LOCK_FILE}"
    )


def template_version(start: Path) -> str | None:
    """The template version (`_commit`) the project at or above `start` was rendered from.

    The root answers file is the one with `kind: project` (or no kind, for older projects);
    None outside a generated project (the template repository itself, say).
    """
    for folder in (start.resolve(), *start.resolve().parents):
        path = folder / ANSWERS_FILE
        if not path.is_file():
            continue
        from lambdapress.config.answers import read_answers

        try:
            answers = read_answers(path)
        except ConfigError:
            return None
        if answers.kind in (None, "project"):
            return answers.commit
    return None


def version_text(tool_version: str, start: Path) -> str:
    """What `lambdapress --version` prints: the tool's and the template's versions."""
    template = template_version(start)
    rendered = f"template {template}" if template else "template: not a generated project"
    return f"lambdapress {tool_version} ({rendered})"
