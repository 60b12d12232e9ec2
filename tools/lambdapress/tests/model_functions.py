"""Model functions for tests, from the flat facts a test has at hand.

Tests name a function, its zip, its routes and a setting or two; the model groups those into
its artifact, contents and triggers. One helper does the grouping, so a test says only what it
is about.
"""

from __future__ import annotations

from typing import Any

from lambdapress.model.application import Artifact, Contents, Function
from lambdapress.model.triggers import HttpRoute

_ARTIFACT = ("sha256", "code_sha256", "size", "inputs_hash")
_CONTENTS = ("distributions", "modules", "data_files", "layer_libraries")


def model_function(name: str, /, **fields: Any) -> Function:
    """A valid `Function` called `name` (`service.module`), with `fields` over the defaults.

    Flat keys are put where the model keeps them: `artifact` (a path), `sha256`, `code_sha256`,
    `size`, `inputs_hash` into its `Artifact`; `distributions`, `modules`, `data_files`,
    `layer_libraries` into its `Contents`; `routes` (route keys `GET /x`, `(method, path)`
    pairs, mappings or `HttpRoute`s) into its triggers.
    """
    service, _, module = name.partition(".")
    values: dict[str, Any] = {
        "name": name,
        "service": service,
        "handler": f"{service}.handlers.{module or service}.handler",
        "runtime": "python3.12",
        "architecture": "x86_64",
        "memory": 128,
        "timeout": 3,
    }
    artifact: dict[str, Any] = {
        "path": f"dist/{service}/{module or service}.zip",
        "sha256": "0" * 64,
        "code_sha256": "x",
        "size": 0,
        "inputs_hash": "x",
    }
    contents: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "artifact" and isinstance(value, str):
            artifact["path"] = value
        elif key in _ARTIFACT:
            artifact[key] = value
        elif key in _CONTENTS:
            contents[key] = value
        elif key == "routes":
            values["triggers"] = tuple(_route(r) for r in value)
        else:
            values[key] = value
    values.setdefault("artifact", Artifact.model_validate(artifact))
    values.setdefault("contents", Contents.model_validate(contents))
    return Function.model_validate(values)


def _route(value: Any) -> HttpRoute:
    if isinstance(value, HttpRoute):
        return value
    if isinstance(value, str):
        method, path = value.split(" ", 1)
        return HttpRoute.model_validate({"method": method, "path": path})
    if isinstance(value, tuple):
        return HttpRoute.model_validate({"method": value[0], "path": value[1]})
    return HttpRoute.model_validate(value)
