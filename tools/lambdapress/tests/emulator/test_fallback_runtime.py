"""The pure-Python runtime loop behaves like awslambdaric where a handler can tell.

On Linux both clients run, so the same invocations are compared side by side.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdapress.emulator import Emulator, Listeners, WorkerOptions

from .conftest import Repo


@pytest.fixture(scope="module")
def fallback(module_repo: Repo, runtime_cache: Path) -> Iterator[Emulator]:
    with Emulator(
        module_repo.standard(),
        module_repo.root,
        workers=WorkerOptions(runtime_client="fallback"),
        listeners=Listeners(on_warning=lambda message: None),
        cache_dir=runtime_cache,
    ) as emulator:
        yield emulator


def test_responses_and_context_match_awslambdaric(
    fallback: Emulator, shared_emulator: Emulator
) -> None:
    ours = fallback.invoke("demo.inspect", {}, client_context={"custom": {"k": "v"}})
    theirs = shared_emulator.invoke("demo.inspect", {}, client_context={"custom": {"k": "v"}})

    assert ours.ok and theirs.ok
    assert (
        ours.response["env"]["LAMBDA_RUNTIME_DIR"].endswith(ours.response["path"][1])
        and "fallback-" in ours.response["path"][1]
    )
    for key in ("function_name", "memory_limit_in_mb", "invoked_function_arn", "client_context"):
        assert ours.response["context"][key] == theirs.response["context"][key]
    assert ours.response["flags"] == theirs.response["flags"]


def test_handler_errors_have_the_same_document(
    fallback: Emulator, shared_emulator: Emulator
) -> None:
    ours = fallback.invoke("demo.raises", {"why": "x"})
    theirs = shared_emulator.invoke("demo.raises", {"why": "x"})

    assert ours.response.keys() == theirs.response.keys()
    assert (ours.response["errorType"], ours.response["errorMessage"]) == ("ValueError", "boom: x")
    assert ours.response["requestId"] == ours.request_id
    assert [_relative(line) for line in ours.response["stackTrace"]] == [
        _relative(line) for line in theirs.response["stackTrace"]
    ]
    assert "[ERROR] ValueError: boom: x\rTraceback (most recent call last):" in ours.logs


def _relative(trace_line: str) -> str:
    """A stack trace line without the emulator's temporary folder (each has its own)."""
    return re.sub(r'File ".*/tasks/[0-9a-f]{64}/', 'File "', trace_line.strip())


def test_import_errors_are_init_errors(fallback: Emulator) -> None:
    result = fallback.invoke("demo.broken", {})
    assert result.error is not None
    assert result.error.error_type == "Runtime.ImportModuleError"
    assert result.error.message == "Unable to import module 'broken': No module named 'pydantic'"


def test_logging_carries_the_request_id(fallback: Emulator) -> None:
    result = fallback.invoke("demo.logs", {})
    logged = [line for line in result.logs.splitlines() if line.endswith("logged line")]
    assert logged and logged[0].startswith("[INFO]\t") and f"\t{result.request_id}\t" in logged[0]
    assert "printed line" in result.logs


def test_crashes_and_warm_reuse(fallback: Emulator) -> None:
    first, second = fallback.invoke("demo.ok", {}), fallback.invoke("demo.ok", {})
    assert first.response["pid"] == second.response["pid"] and not second.cold
    crash = fallback.invoke("demo.crashes", {})
    assert crash.error is not None and crash.error.error_type == "Runtime.ExitError"
