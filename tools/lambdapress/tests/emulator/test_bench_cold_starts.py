"""`bench` measures cold starts only of functions that start: a failed init is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress import bench
from lambdapress.errors import EmulatorError

from .conftest import EmulatorFactory, Repo, entry_for

FAILS_AT_INIT = {
    "import": "import not_in_the_zip\n\ndef handler(event, context):\n    return 1\n",
    "raise": "raise RuntimeError('no configuration')\n",
    "exit": "import os\nos._exit(3)\n",
    "no handler": "def other(event, context):\n    return 1\n",
}


@pytest.mark.parametrize("why", sorted(FAILS_AT_INIT))
def test_a_function_that_fails_at_init_is_not_timed(
    repo: Repo, runtime_cache: Path, why: str
) -> None:
    artifact = repo.artifact("starts", {"starts.py": FAILS_AT_INIT[why]})
    entry = entry_for(repo.root, artifact, "demo.starts", "starts.handler")
    (repo.root / "bench").mkdir()  # where bench writes the sources-only copy
    with pytest.raises(EmulatorError, match=r"the cold start of demo\.starts failed") as caught:
        bench._cold_starts(repo.root, entry, entry, 1, runtime_cache)
    assert caught.value.hint is not None and "lambdapress invoke demo.starts" in caught.value.hint


def test_an_invocation_error_after_a_good_init_is_still_a_cold_start(
    repo: Repo, make_emulator: EmulatorFactory, runtime_cache: Path
) -> None:
    """The handler failed, not the start: Init Duration is a real figure."""
    failing = repo.app("raises")
    result = make_emulator(repo.manifest(failing), repo.root).invoke(failing.name, {})
    assert result.error is not None and not result.init_failed
    assert bench._init_duration(result) == result.report.init_duration_ms
    (repo.root / "bench").mkdir()
    [measurement] = bench._cold_starts(repo.root, failing, failing, 1, runtime_cache)
    assert measurement.value > 0 and measurement.baseline > 0
