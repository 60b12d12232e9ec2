"""The console: rich on a terminal, plain stable text on a pipe, with NO_COLOR or TERM=dumb."""

from __future__ import annotations

import io
from typing import Any

import pytest

from lambdapress.cli import _console
from lambdapress.cli._console import is_plain, print_table, steps
from lambdapress.cli._tables import render_table


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal, so the rich paths can be read back."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def colour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "100")


HEADERS = ["name", "memory"]
ROWS = [["orders", 256], ["payments-api", 1024]]


def test_a_pipe_gets_the_plain_table() -> None:
    out = io.StringIO()
    print_table(HEADERS, ROWS, file=out)
    assert out.getvalue() == render_table(HEADERS, ROWS) + "\n"


def test_a_terminal_gets_a_rich_table_with_the_same_cells() -> None:
    out = FakeTerminal()
    print_table(HEADERS, ROWS, file=out)
    text = out.getvalue()
    assert "\x1b[" in text  # styled (the bold header)
    assert "─" in text  # rich's rule under the header, not the plain dashes
    assert "------------" not in text
    for cell in ("name", "memory", "orders", "256", "payments-api", "1024"):
        assert cell in text


@pytest.mark.parametrize(("variable", "value"), [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_no_color_and_dumb_terminals_get_plain_text(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    out = FakeTerminal()
    assert is_plain(out)
    print_table(HEADERS, ROWS, file=out)
    assert out.getvalue() == render_table(HEADERS, ROWS) + "\n"
    progress = FakeTerminal()
    with steps("package", stream=progress) as display:
        display.step("rebuilt orders.get_order", 1, 2)
    assert progress.getvalue() == "[1/2] rebuilt orders.get_order\n"


def test_an_empty_no_color_does_not_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: only a non-empty value disables colour
    assert not is_plain(FakeTerminal())


def test_plain_steps_are_one_line_each() -> None:
    out = io.StringIO()
    with steps("package", stream=out) as display:
        display.note("installing wheel six 1.16.0")
        display.step("rebuilt orders.get_order", 1, 2)
        display.say("warning: something")
        display.step("cached orders.list_orders", 2, 2)
    assert out.getvalue().splitlines() == [
        "installing wheel six 1.16.0",
        "[1/2] rebuilt orders.get_order",
        "warning: something",
        "[2/2] cached orders.list_orders",
    ]


def test_a_terminal_gets_a_bar_with_counts_and_lines_that_stay() -> None:
    out = FakeTerminal()
    with steps("package", stream=out) as display:
        display.note("installing wheel six 1.16.0")
        display.step("rebuilt orders.get_order", 1, 2)
        display.say("warning: something")
        display.step("cached orders.list_orders", 2, 2)
    text = out.getvalue()
    assert "package: cached orders.list_orders" in text
    assert "2/2" in text and "━" in text  # the count and the bar
    assert "warning: something\n" in text
    assert "[1/2]" not in text  # no plain lines on a terminal


def test_a_lazy_bar_draws_nothing_until_a_step_does_work(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    real = _console._bar

    def counted(target: io.StringIO, title: str) -> Any:
        started.append(title)
        return real(target, title)

    monkeypatch.setattr(_console, "_bar", counted)
    out = FakeTerminal()
    with steps("package", stream=out, lazy=True) as display:
        display.step("unchanged orders.get_order", 1, 3, busy=False)
        display.say("warning: something")
        display.step("unchanged orders.list_orders", 2, 3, busy=False)
    assert started == []  # no bar, no rich
    assert out.getvalue() == "warning: something\n"

    with steps("package", stream=out, lazy=True) as display:
        display.step("unchanged orders.get_order", 1, 3, busy=False)
        display.step("rebuilt orders.list_orders", 2, 3)
        display.step("unchanged orders.put_order", 3, 3, busy=False)  # shown once it is up
    assert started == ["package"]
    assert "package: unchanged orders.put_order" in out.getvalue() and "3/3" in out.getvalue()


def test_a_table_with_nothing_new_can_be_plain_on_a_terminal() -> None:
    out = FakeTerminal()
    print_table(HEADERS, ROWS, file=out, plain=True)
    assert out.getvalue() == render_table(HEADERS, ROWS) + "\n"
