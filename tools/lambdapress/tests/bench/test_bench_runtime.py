"""The bench's runtime row: measured only when a function ships lambdapress-runtime."""

from __future__ import annotations

from lambdapress.bench.runtime import functions_shipping_runtime, measure_runtime_import
from lambdapress.model.manifest import FunctionEntry, Manifest


def entry(
    name: str, modules: tuple[str, ...] = (), distributions: dict[str, str] | None = None
) -> FunctionEntry:
    return FunctionEntry(
        name=f"svc.{name}",
        service="svc",
        handler=f"svc.handlers.{name}.handler",
        artifact=f"dist/svc/{name}.zip",
        sha256="0" * 64,
        code_sha256="x",
        size=1,
        inputs_hash="x",
        runtime="python3.12",
        architecture="x86_64",
        memory=128,
        timeout=3,
        modules=modules,
        distributions=distributions or {},
    )


def test_functions_shipping_the_runtime_from_source_or_as_a_wheel_are_counted() -> None:
    manifest = Manifest(
        functions=(
            entry("a", modules=("lambdapress_runtime._container", "svc.handlers.a")),
            entry("b", distributions={"lambdapress-runtime": "0.3.0+abc"}),
            entry("c", modules=("svc.handlers.c",)),
        )
    )
    assert functions_shipping_runtime(manifest) == 2


def test_nothing_is_measured_when_no_function_ships_it() -> None:
    assert measure_runtime_import(Manifest(functions=(entry("c"),))) is None


def test_the_import_is_timed_in_fresh_interpreters_next_to_json() -> None:
    manifest = Manifest(functions=(entry("a", modules=("lambdapress_runtime",)),))
    measured = measure_runtime_import(manifest, runs=3)
    assert measured is not None
    assert measured.runs == 3 and measured.functions == 1
    assert measured.runtime_ms > 0 and measured.baseline_ms > 0
