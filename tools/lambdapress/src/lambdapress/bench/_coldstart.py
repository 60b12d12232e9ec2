"""Init Duration of fresh emulator workers, the way every cold-start row of the bench takes it.

Variants of one function (the zip as built, without bytecode, built by SAM...) are started in
turn, one fresh worker each, `runs` times: interleaved, so that all of them see the same load
of a shared machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdapress.errors import EmulatorError
from lambdapress.model.application import Application, Function

if TYPE_CHECKING:
    from lambdapress.emulator.reports import InvocationResult


def interleaved_init_durations(
    variants: dict[str, Function],
    root: Path,
    runs: int,
    runtime_cache: Path,
    event: Any,
) -> dict[str, list[float]]:
    """Each variant's Init Durations (ms) over `runs` rounds; their zips are under `root`."""
    from lambdapress.emulator import Emulator, Listeners

    timings: dict[str, list[float]] = {label: [] for label in variants}
    for _ in range(runs):
        for label, function in variants.items():
            with Emulator(
                Application(functions=(function,)),
                root,
                cache_dir=runtime_cache,
                listeners=Listeners(on_warning=lambda _message: None),
            ) as emulator:
                result = emulator.invoke(function.name, event)
            timings[label].append(init_duration(result))
    return timings


def init_duration(result: InvocationResult) -> float:
    """The Init Duration of a cold start; an init phase that failed measures nothing.

    A failure is an error (exit 1), not a figure: a bench that timed an import error would
    report a cold start of a function that cannot start.
    """
    duration = result.report.init_duration_ms
    if result.init_failed or duration is None:
        why = f"{result.error.error_type}: {result.error.message}" if result.error else "no init"
        raise EmulatorError(
            f"bench: the cold start of {result.function} failed, so it cannot be measured ({why})",
            hint=f"run `lambdapress invoke {result.function}` to see its log, fix it, then "
            "bench again",
        )
    return duration
