"""The bench's runtime row: measured only when a function ships lambdapress-runtime."""

from __future__ import annotations

from model_functions import model_function

from lambdapress.bench._runtime import functions_shipping_runtime, measure_runtime_import
from lambdapress.model.application import Application, Function


def entry(
    name: str, modules: tuple[str, ...] = (), distributions: dict[str, str] | None = None
) -> Function:
    return model_function(f"svc.{name}", modules=modules, distributions=distributions or {})


def test_functions_shipping_the_runtime_from_source_or_as_a_wheel_are_counted() -> None:
    manifest = Application(
        functions=(
            entry("a", modules=("lambdapress_runtime._container", "svc.handlers.a")),
            entry("b", distributions={"lambdapress-runtime": "0.3.0+abc"}),
            entry("c", modules=("svc.handlers.c",)),
        )
    )
    assert functions_shipping_runtime(manifest) == 2


def test_nothing_is_measured_when_no_function_ships_it() -> None:
    assert measure_runtime_import(Application(functions=(entry("c"),))) is None


def test_the_import_is_timed_in_fresh_interpreters_next_to_json() -> None:
    manifest = Application(functions=(entry("a", modules=("lambdapress_runtime",)),))
    measured = measure_runtime_import(manifest, runs=3)
    assert measured is not None
    assert measured.runs == 3 and measured.functions == 1
    assert measured.runtime_ms > 0 and measured.baseline_ms > 0
