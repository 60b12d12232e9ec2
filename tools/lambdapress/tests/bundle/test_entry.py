"""The entry module of a one-artifact service routes like API Gateway and imports lazily."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambdapress.bundle._entry import entry_source
from lambdapress.bundle.discovery import HandlerModule
from lambdapress.model.trigger_kinds import Declared
from lambdapress.model.triggers import HttpRoute


def function(module: str, *routes: tuple[str, str]) -> HandlerModule:
    return HandlerModule(
        name=module,
        service="svc",
        module=module,
        source=Path(f"{module}.py"),
        declared=tuple(
            Declared(HttpRoute(method=m, path=p), Path(f"{module}.py"), 1, module, module)  # type: ignore[arg-type]
            for m, p in routes
        ),
    )


def test_dispatch_prefers_literal_segments_and_answers_404_and_405(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("by_id", "search"):
        (tmp_path / f"{module}.py").write_text(
            f"def handler(event, context):\n    return {{'statusCode': 200, 'body': '{module}'}}\n"
        )
    (tmp_path / "entry.py").write_text(
        entry_source(
            "svc",
            (
                function("by_id", ("GET", "/items/{id}")),
                function("search", ("GET", "/items/search")),
            ),
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import entry  # type: ignore[import-not-found]

    def call(method: str, path: str) -> object:
        event = {"rawPath": path, "requestContext": {"http": {"method": method}}}
        return entry.handler(event, None)

    assert "search" not in sys.modules
    assert call("GET", "/items/search") == {"statusCode": 200, "body": "search"}
    assert "by_id" not in sys.modules, "endpoint modules are imported on first use only"
    assert call("GET", "/items/42") == {"statusCode": 200, "body": "by_id"}
    assert call("DELETE", "/items/42")["statusCode"] == 405  # type: ignore[index]
    assert call("GET", "/nothing")["statusCode"] == 404  # type: ignore[index]
    rest = entry.handler({"httpMethod": "GET", "path": "/items/7"}, None)
    assert rest["body"] == "by_id"
    for module in ("entry", "by_id", "search"):
        sys.modules.pop(module, None)
