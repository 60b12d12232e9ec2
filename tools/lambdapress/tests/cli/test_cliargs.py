"""The shared argument rules: numbers checked by the parser, options that exclude each other,
`lambdapress` alone listing the commands, and `index serve --name` (its old `--index` kept)."""

from __future__ import annotations

import argparse

import pytest

from lambdapress.cli import _parser, main
from lambdapress.cli._args import bounded_int, positive_seconds


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["package", "--jobs", "0"], "0 is out of range: use from 1 to 256"),
        (["package", "--jobs", "-3"], "-3 is out of range: use from 1 to 256"),
        (["package", "--jobs", "1000"], "1000 is out of range: use from 1 to 256"),
        (["package", "--jobs", "two"], "'two' is not a whole number"),
        (["serve", "--port", "-1"], "-1 is out of range: use from 0 to 65535"),
        (["serve", "--port", "70000"], "70000 is out of range: use from 0 to 65535"),
        (["serve", "--lambda-port", "-2"], "-2 is out of range: use from -1 to 65535"),
        (["serve", "--concurrency", "0"], "0 is out of range: use from 1 to"),
        (["serve", "--idle-timeout", "0"], "0 is out of range"),
        (["serve", "--idle-timeout", "-5"], "-5 is out of range"),
        (["serve", "--idle-timeout", "nan"], "nan is out of range"),
        (["serve", "--client-timeout", "0"], "0 is out of range"),
        (["serve", "--client-timeout", "soon"], "'soon' is not a number of seconds"),
        (["invoke", "demo.ok", "--times", "0"], "0 is out of range: use 1 or more"),
        (["bench", "--cold-starts", "0"], "0 is out of range: use 1 or more"),
        (["index", "serve", "--port", "0"], "0 is out of range: use from 1 to 65535"),
    ],
)
def test_numbers_out_of_range_are_usage_errors_naming_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    option = argv[-2]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: lambdapress ")
    assert f"error: argument {option}: {message}" in err
    assert "Traceback" not in err


def test_numbers_in_range_are_parsed() -> None:
    numbers = ["--port", "0", "--lambda-port", "-1", "--concurrency", "3"]
    seconds = ["--idle-timeout", "0.5", "--client-timeout", "2"]
    args = _parser().parse_args(["serve", *numbers, *seconds])
    assert (args.port, args.lambda_port, args.concurrency) == (0, -1, 3)
    assert (args.idle_timeout, args.client_timeout) == (0.5, 2.0)
    assert _parser().parse_args(["package", "--jobs", "4"]).jobs == 4
    assert _parser().parse_args(["package"]).jobs is None  # the handler picks one per CPU


def test_the_types_bounds() -> None:
    within = bounded_int(2, 4)
    assert [within("2"), within("4")] == [2, 4]
    for text in ("1", "5"):
        with pytest.raises(argparse.ArgumentTypeError, match="use from 2 to 4"):
            within(text)
    assert positive_seconds("0.01") == 0.01
    with pytest.raises(argparse.ArgumentTypeError):
        positive_seconds("inf")


def test_event_and_http_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["invoke", "demo.ok", "--event", "e.json", "--http", "GET", "/"]
    assert main(argv) == 2
    assert "argument --http: not allowed with argument --event" in capsys.readouterr().err


def test_no_command_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: lambdapress ")
    assert (
        "error: choose a command: new, workspace, package, bench, publish, index, models, pin, "
        "unpin, pins, invoke, serve, token, event, trigger, db, template, deploy, sync, destroy, "
        "logs, drift, cache\n" in err
    )


@pytest.mark.parametrize("spelling", ["--name", "--index"])
def test_index_serve_takes_the_index_name_as_name_and_its_old_spelling(spelling: str) -> None:
    args = _parser().parse_args(["index", "serve", spelling, "team"])
    assert args.name == "team"


def test_the_old_spelling_is_not_advertised(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--name NAME" in out and "--index" not in out
