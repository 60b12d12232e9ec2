"""Copier answer files: where a project or service came from, and with which answers.

The `.copier-answers.yml` that copier writes is the only record of which template (and which
commit of it) produced a folder. lambdapress reads it to create new services from the *same*
template version as the rest of the repository, so `copier update` later moves everything
together. Copier's private keys (`_src_path`, `_commit`) become typed fields; the public
answers stay a plain mapping because their set is the template's business, not ours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from lambdapress.config.pyproject import read_config_text
from lambdapress.config.toolversion import ANSWERS_FILE as ANSWERS_FILE
from lambdapress.config.toolversion import template_version as template_version
from lambdapress.config.toolversion import version_text as version_text
from lambdapress.errors import ConfigError


class CopierAnswers(BaseModel):
    """The answers copier recorded for one generated folder."""

    model_config = ConfigDict(frozen=True)

    src_path: str
    """Where the template lives, as copier was given it (a URL or a local path)."""
    commit: str | None = None
    """The template version used (a tag such as v0.3.0, or a commit description)."""
    kind: str | None = None
    """What the folder is: project, service or package."""
    values: dict[str, Any] = {}
    """Every other public answer (resource, models_package, ...)."""


def read_answers(path: Path) -> CopierAnswers:
    """Parse a copier answers file; anything unusable is a ConfigError naming the file."""
    text = read_config_text(
        path,
        missing="answers file not found",
        missing_hint="generate the folder with copier, which writes this file",
    )
    import yaml  # here: every command looks for the project's answers, few find one

    try:
        data = yaml.safe_load(text)
    except (ValueError, OverflowError, RecursionError) as exc:  # 2024-13-45, nested too deep
        raise ConfigError(
            f"invalid YAML: {type(exc).__name__}: {str(exc)[:200]}",
            path=path,
            hint="fix the value, or restore the file copier wrote (git checkout)",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"invalid YAML: {problem}",
            path=path,
            line=line,
            hint="fix the YAML syntax, or restore the file copier wrote (git checkout)",
        ) from None
    return parse_answers(data, path)


def parse_answers(data: object, path: Path) -> CopierAnswers:
    """Build CopierAnswers from already loaded YAML; `path` is only used in errors."""
    if not isinstance(data, dict):
        raise ConfigError(
            "the answers file must be a YAML mapping of question: answer",
            path=path,
            hint="restore the file copier wrote (git checkout), or regenerate the folder",
        )
    src_path = data.get("_src_path")
    if not isinstance(src_path, str) or not src_path.strip():
        raise ConfigError(
            "`_src_path` is missing: copier does not know which template made this folder",
            path=path,
            hint="add `_src_path: <template URL or path>` (what you passed to `copier copy`)",
        )
    commit = data.get("_commit")
    kind = data.get("kind")
    values = {
        str(key): value
        for key, value in data.items()
        if not str(key).startswith("_") and key != "kind"
    }
    return CopierAnswers(
        src_path=src_path.strip(),
        commit=None if commit is None else str(commit),
        kind=None if kind is None else str(kind),
        values=values,
    )
