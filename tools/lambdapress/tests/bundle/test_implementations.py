"""Packages that choose an implementation at import are pinned to the one that ships."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.bundle._implementations import (
    PSYCOPG,
    Choice,
    Implementation,
    pin_implementations,
)
from lambdapress.errors import BundleError

PYPROJECT = """\
[project]
name = "orders"

[tool.lambdapress.environment]
STAGE = "dev"
PSYCOPG_IMPL = "{value}"
"""


def pin(shipped: set[str], environment: dict[str, str] | None = None, **kwargs: object):
    return pin_implementations(
        shipped,
        environment or {},
        function="orders.get_order",
        pyproject=Path("services/orders/pyproject.toml"),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("shipped", "value"),
    [
        ({"psycopg", "psycopg-binary"}, "binary"),
        ({"psycopg", "psycopg-c"}, "c"),
        ({"psycopg", "psycopg-binary", "psycopg-c"}, "binary"),  # the one with libpq bundled
        ({"psycopg"}, "python"),
    ],
)
def test_the_implementation_that_ships_is_pinned(shipped: set[str], value: str) -> None:
    environment, pinned = pin(shipped, {"STAGE": "dev"})
    assert environment == {"STAGE": "dev", "PSYCOPG_IMPL": value}
    (only,) = pinned
    assert only.choice is PSYCOPG and only.implementation.value == value


def test_a_function_without_the_package_gets_no_pin() -> None:
    assert pin({"pydantic"}, {"STAGE": "dev"}) == ({"STAGE": "dev"}, ())


def test_the_modules_of_the_implementations_not_pinned_are_inactive() -> None:
    _, (binary,) = pin({"psycopg", "psycopg-binary"})
    assert binary.inactive_files() == {"psycopg/pq/misc.py", "psycopg/pq/_pq_ctypes.py"}
    _, (python,) = pin({"psycopg"})
    assert python.inactive_files() == frozenset()
    assert python.implementation.files == ("psycopg/pq/misc.py", "psycopg/pq/_pq_ctypes.py")


def test_a_value_the_user_set_wins_when_it_names_what_ships() -> None:
    environment, (pinned,) = pin({"psycopg", "psycopg-binary"}, {"PSYCOPG_IMPL": "python"})
    assert environment == {"PSYCOPG_IMPL": "python"}
    assert pinned.implementation.value == "python"  # then its libpq lookup is checked


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("binary", "names psycopg's 'binary' implementation, but psycopg-binary does not ship"),
        ("fast", "is not one of psycopg's implementations ('binary', 'c', 'python')"),
    ],
)
def test_a_value_naming_what_does_not_ship_is_an_error_naming_the_line(
    tmp_path: Path, value: str, says: str
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT.format(value=value))
    with pytest.raises(BundleError) as caught:
        pin_implementations(
            {"psycopg"},
            {"PSYCOPG_IMPL": value},
            function="orders.get_order",
            pyproject=pyproject,
        )
    error = caught.value
    assert says in error.message
    assert "orders.get_order" in error.message or value == "fast"
    assert "what ships: 'python'" in error.message
    assert (error.path, error.line) == (pyproject, 6)
    assert "psycopg[binary]" in (error.hint or "")


def test_a_new_chooser_is_one_entry() -> None:
    """The registry is data: a package of the same kind needs no code."""
    fast = Choice(
        distribution="fastjson",
        variable="FASTJSON_BACKEND",
        implementations=(Implementation("rust", "fastjson-rs"), Implementation("pure", None)),
        extra="rust",
    )
    environment, _ = pin({"fastjson", "fastjson-rs", "psycopg"}, choices=(PSYCOPG, fast))
    assert environment == {"PSYCOPG_IMPL": "python", "FASTJSON_BACKEND": "rust"}
