"""LambdapressError renders where and how to fix, and survives pickling."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from lambdapress.errors import ConfigError, LambdapressError, ScaffoldError, WorkspaceError


def test_renders_path_line_message_and_fix() -> None:
    err = LambdapressError(
        "memory too low", path=Path("services/orders/pyproject.toml"), line=12, hint="use 128+"
    )
    assert str(err) == "services/orders/pyproject.toml:12: memory too low\n  fix: use 128+"
    assert (err.message, err.path, err.line, err.hint) == (
        "memory too low",
        Path("services/orders/pyproject.toml"),
        12,
        "use 128+",
    )


def test_renders_path_without_line() -> None:
    err = LambdapressError("broken", path=Path("a.toml"))
    assert str(err) == "a.toml: broken"


def test_renders_bare_message() -> None:
    assert str(LambdapressError("plain")) == "plain"


def test_line_without_path_is_not_shown() -> None:
    assert str(LambdapressError("x", line=3, hint="do y")) == "x\n  fix: do y"


@pytest.mark.parametrize("cls", [ConfigError, WorkspaceError, ScaffoldError])
def test_subclasses_are_lambdapress_errors(cls: type[LambdapressError]) -> None:
    err = cls("m", path=Path("p"), line=1, hint="h")
    assert isinstance(err, LambdapressError)
    assert str(err) == "p:1: m\n  fix: h"


def test_pickle_keeps_every_field() -> None:
    err = ConfigError("m", path=Path("p.toml"), line=4, hint="h")
    copy = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own object
    assert type(copy) is ConfigError
    assert (copy.message, copy.path, copy.line, copy.hint) == ("m", Path("p.toml"), 4, "h")
