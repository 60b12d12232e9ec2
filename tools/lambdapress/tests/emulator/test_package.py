"""The package's public names resolve lazily, and only to what `__all__` promises."""

from __future__ import annotations

import subprocess
import sys

import pytest

import lambdapress.emulator as emulator


def test_every_public_name_resolves() -> None:
    for name in emulator.__all__:
        value = getattr(emulator, name)
        assert getattr(value, "__name__", name) in (name, "Callable"), name
    assert callable(emulator.serve) and emulator.serve.__module__.endswith(".serving")


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = emulator.nope


def test_loading_the_pytest_plugin_does_not_load_the_emulator() -> None:
    code = (
        "import sys, lambdapress.emulator.pytest_plugin; "
        "print(any(m.startswith('lambdapress.emulator.') and m != "
        "'lambdapress.emulator.pytest_plugin' for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
