"""The example platform, packaged by `lambdapress package` and run as Lambda runs it.

Every zip is unzipped alone and run by the official runtime client (awslambdaric) under
`python -I -S` against the emulator's Runtime API, and driven the two ways a client reaches a
Lambda: HTTP requests through the local API Gateway, and boto3's `invoke`. Then faults are put
into a real handler, which `serve` rebuilds and restarts on its own.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from lambdapress.bundle.archive import Entry, write_zip
from lambdapress.bundle.pipeline import rebuilder
from lambdapress.emulator import (
    Emulator,
    Listeners,
    ReloadRecord,
    ServeOptions,
    WorkerOptions,
    http_api_event,
    serve,
)
from lambdapress.model.application import Application, Function

pytestmark = pytest.mark.e2e
QUIET = Listeners(on_warning=lambda _message: None)


@pytest.fixture(scope="module")
def platform(packaged_examples: tuple[Path, Application]) -> tuple[Path, Application]:
    """The example platform, packaged (conftest's session-wide copy)."""
    return packaged_examples


@pytest.fixture
def data(example_storage: Any) -> dict[str, Any]:
    """Where the example services' data and events live, as `nox -s db` runs them: real
    PostgreSQL and moto (the Emulator's `storage=` and `events=`)."""
    return {"storage": example_storage.environment, "events": example_storage.events}


def routed(manifest: Application) -> list[Function]:
    """The functions behind a route (the example's workers run on a queue and a schedule)."""
    return [function for function in manifest.functions if function.routes]


def request_for(entry: Function, valid: bool = True) -> tuple[str, str, Any]:
    """A request to the function's route: a valid one, or one its validation refuses."""
    route = entry.routes[0]
    path = route.path
    for part in path.split("/"):
        if part.startswith("{"):
            path = path.replace(part, "no-such-id")
    if route.method in ("POST", "PATCH"):
        return route.method, path, {"name": "Ada"} if valid else {"name": "", "extra": 1}
    if route.method == "GET" and "{" not in route.path:
        return route.method, path + ("" if valid else "?limit=0"), None
    return route.method, path, None


def expected_status(entry: Function) -> int:
    route = entry.routes[0]
    if route.method == "POST":
        return 201
    return 200 if "{" not in route.path else 404  # a new container's store is empty


def test_every_example_function_answers_as_on_lambda(
    platform: tuple[Path, Application], data: dict[str, Any]
) -> None:
    root, manifest = platform
    assert {f.name for f in manifest.functions} >= {"orders.get_order", "customers.list_customers"}
    with Emulator(manifest, root, listeners=QUIET, **data) as emulator:
        for entry in routed(manifest):
            method, path, body = request_for(entry)
            event = (
                http_api_event(method, path, json_body=body)
                if body
                else http_api_event(method, path)
            )
            result = emulator.invoke(entry.name, event)
            assert result.ok, (entry.name, result.logs)
            assert result.response["statusCode"] == expected_status(entry), entry.name
            assert result.report.init_duration_ms is not None, "first invocation is a cold start"
            again = emulator.invoke(entry.name, event)
            assert again.report.init_duration_ms is None, "the warm worker is reused"
            assert again.worker_id == result.worker_id


def test_on_a_traced_stage_every_routed_function_answers_from_its_zip_alone(
    platform: tuple[Path, Application], data: dict[str, Any]
) -> None:
    """With `LAMBDAPRESS_TRACING=xray`, as a tracing stage's stack sets it, the handlers import
    Powertools' Tracer and the X-Ray SDK: from the zip, as on Lambda (no daemon here, so the
    Tracer sends nothing; what matters is that the traced path imports and answers)."""
    root, manifest = platform
    traced = {
        service: {**variables, "LAMBDAPRESS_TRACING": "xray"}
        for service, variables in data["storage"].items()
    }
    with Emulator(
        manifest, root, listeners=QUIET, storage=traced, events=data["events"]
    ) as emulator:
        for entry in routed(manifest):
            method, path, body = request_for(entry)
            event = (
                http_api_event(method, path, json_body=body)
                if body
                else http_api_event(method, path)
            )
            result = emulator.invoke(entry.name, event)
            assert result.ok, (entry.name, result.logs)
            assert result.response["statusCode"] == expected_status(entry), entry.name


def test_http_and_boto3_reach_every_function_and_validation_answers_422(
    platform: tuple[Path, Application],
    data: dict[str, Any],
) -> None:
    root, manifest = platform
    with (
        Emulator(
            manifest,
            root,
            workers=WorkerOptions(concurrency=8),
            listeners=QUIET,
            **data,
        ) as emulator,
        serve(emulator, ServeOptions(port=0)) as serving,
    ):
        client = boto3.client(
            "lambda",
            endpoint_url=serving.lambda_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        with httpx.Client(base_url=serving.url, timeout=30) as http:
            for entry in routed(manifest):
                method, path, body = request_for(entry)
                answer = http.request(method, path, json=body)
                assert answer.status_code == expected_status(entry), (entry.name, answer.text)

                event = (
                    http_api_event(method, path, json_body=body)
                    if body
                    else http_api_event(method, path)
                )
                invoked = client.invoke(
                    FunctionName=entry.name.replace(".", "-"),
                    Payload=json.dumps(event).encode(),
                    LogType="Tail",
                )
                payload = json.loads(invoked["Payload"].read())
                assert payload["statusCode"] == expected_status(entry), entry.name
                assert "REPORT RequestId" in base64.b64decode(invoked["LogResult"]).decode()

                method, path, body = request_for(entry, valid=False)
                if body is not None or "limit=0" in path:
                    refused = http.request(method, path, json=body)
                    assert refused.status_code == 422, (entry.name, refused.text)
                    assert refused.json()["detail"], "pydantic's details are in the answer"


def test_fifty_requests_at_concurrency_eight(
    platform: tuple[Path, Application], data: dict[str, Any]
) -> None:
    root, manifest = platform
    with (
        Emulator(
            manifest,
            root,
            workers=WorkerOptions(concurrency=8),
            listeners=QUIET,
            **data,
        ) as emulator,
        serve(emulator, ServeOptions(port=0, lambda_port=None)) as serving,
        httpx.Client(base_url=serving.url, timeout=60) as http,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        statuses = list(pool.map(lambda _i: http.get("/orders").status_code, range(50)))
        stats = {s.function: s for s in emulator.stats()}
    assert statuses == [200] * 50
    assert 1 <= stats["orders.list_orders"].started <= 8
    assert stats["orders.list_orders"].invocations == 50


def test_serve_rebuilds_a_changed_handler_and_lambda_faults_surface(
    platform: tuple[Path, Application], data: dict[str, Any], tmp_path: Path
) -> None:
    """Edit a real handler while `serve` runs: it rebuilds, restarts it, and faults show."""
    source_root, _ = platform
    root = tmp_path / "platform"
    shutil.copytree(source_root, root)
    handler = root / "services/orders/src/orders/handlers/get_order.py"
    original = handler.read_text()
    reloads: list[ReloadRecord] = []
    with (
        Emulator.from_root(root, listeners=QUIET, **data) as emulator,
        serve(
            emulator,
            ServeOptions(
                port=0,
                lambda_port=None,
                rebuild=rebuilder(root),
                watch=[root / "services", root / "packages"],
                interval=0.1,
                on_reload=reloads.append,
            ),
        ) as serving,
        httpx.Client(base_url=serving.url, timeout=60) as http,
    ):
        assert http.get("/orders/x").status_code == 404

        def edit_handler(code: str) -> None:
            seen = len(reloads)
            marker = "    item = repository.get()"
            handler.write_text(original.replace(marker, f"{code}\n{marker}", 1))
            stamp = handler.stat().st_mtime_ns + 10**9
            os.utime(handler, ns=(stamp, stamp))
            deadline = time.monotonic() + 60
            while len(reloads) == seen and time.monotonic() < deadline:
                time.sleep(0.05)
            assert reloads[-1].functions == ("orders.get_order",), reloads[-1]

        edit_handler('    raise RuntimeError("boom in get_order")')
        assert http.get("/orders/x").status_code == 500
        failed = emulator.invoke("orders.get_order", http_api_event("GET", "/orders/x"))
        assert failed.function_error == "Unhandled"
        assert failed.request_id in failed.logs and "boom in get_order" in failed.logs

        edit_handler("    import os\n\n    os._exit(3)")
        crashed = emulator.invoke("orders.get_order", http_api_event("GET", "/orders/x"))
        assert crashed.function_error == "Unhandled"
        assert "Runtime.ExitError" in crashed.payload.decode()
        assert http.get("/orders/x").status_code == 500

        edit_handler("    import time\n\n    time.sleep(60)")
        timed_out = emulator.invoke("orders.get_order", http_api_event("GET", "/orders/x"))
        assert "Task timed out after 10.00 seconds" in timed_out.payload.decode()

        edit_handler("    pass")
        assert http.get("/orders/x").status_code == 404


def test_a_zip_missing_a_module_fails_as_on_lambda_though_this_venv_has_it(
    platform: tuple[Path, Application], data: dict[str, Any], tmp_path: Path
) -> None:
    import acme_models  # the developer's venv has it...

    root, manifest = platform
    entry = manifest.function("orders.get_order")
    with zipfile.ZipFile(root / entry.artifact.path) as built:
        kept = [
            Entry(info.filename, content=built.read(info))
            for info in built.infolist()
            if not info.filename.startswith("acme_models/")
        ]
    broken = write_zip(kept, tmp_path / "get_order-without-models.zip")  # ...the zip does not
    artifact = entry.artifact.model_copy(
        update={
            "path": str(tmp_path / "get_order-without-models.zip"),
            "sha256": broken.sha256,
            "code_sha256": broken.code_sha256,
            "size": broken.size,
        }
    )
    entry = entry.model_copy(update={"artifact": artifact})
    only = Application(functions=(entry,), resources=manifest.resources)
    with Emulator(only, root, listeners=QUIET, **data) as emulator:
        result = emulator.invoke(entry.name, http_api_event("GET", "/orders/x"))
    assert acme_models.__name__ == "acme_models"
    assert result.function_error == "Unhandled"
    assert "Runtime.ImportModuleError" in result.payload.decode()
    assert "acme_models" in result.payload.decode()
