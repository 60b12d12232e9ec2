"""An artifact with aws-lambda-powertools and pydantic, as services are written: the 200, 422 and
500 shapes through the HTTP front end, and Powertools' logger sees the request id."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lambdapress.emulator import AccessRecord, Emulator, HttpApi
from lambdapress.emulator._ric import wheel_platform

from .conftest import Repo, entry_for, write_zip

pytestmark = pytest.mark.e2e

HANDLER = """
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, Field

logger = Logger(service="orders")
app = APIGatewayHttpResolver(enable_validation=True)


class OrderIn(BaseModel):
    name: str = Field(min_length=1)
    quantity: int = Field(gt=0)


@app.post("/orders")
def create(order: OrderIn) -> dict[str, Any]:
    return {"id": "o-1", **order.model_dump()}


@app.get("/orders/<order_id>")
def get(order_id: str) -> dict[str, Any]:
    return {"id": order_id}


@app.get("/boom")
def boom() -> dict[str, Any]:
    logger.info("about to fail")
    raise RuntimeError("database unreachable")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
"""


@pytest.fixture(scope="module")
def powertools_repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """The artifact: the handler, powertools and pydantic installed flat, precompiled."""
    repo = Repo(tmp_path_factory.mktemp("powertools") / "repo")
    folder = repo.root / "build" / "orders"
    folder.mkdir(parents=True)
    (folder / "orders_api.py").write_text(textwrap.dedent(HANDLER).lstrip(), encoding="utf-8")
    platform_tag = wheel_platform()
    assert platform_tag is not None
    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    install = [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--target", str(folder)]
    target = ["--python-version", minor, "--python-platform", platform_tag]
    packages = ["--only-binary", ":all:", "aws-lambda-powertools==3.*", "pydantic==2.*"]
    subprocess.run([*install, *target, *packages], check=True)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
         str(folder)],
        check=True,
    )  # fmt: skip
    write_zip(folder, repo.root / "dist" / "orders" / "api.zip")
    return repo


@pytest.fixture(scope="module")
def records() -> list[AccessRecord]:
    return []


@pytest.fixture(scope="module")
def api(
    powertools_repo: Repo, runtime_cache: Path, records: list[AccessRecord]
) -> Iterator[HttpApi]:
    entry = entry_for(
        powertools_repo.root,
        powertools_repo.root / "dist" / "orders" / "api.zip",
        "orders.api",
        "orders_api.handler",
        routes=(("POST", "/orders"), ("GET", "/orders/{order_id}"), ("GET", "/boom")),
        memory=256,
        timeout=10,
        environment={"POWERTOOLS_LOG_LEVEL": "INFO"},
    )
    manifest = powertools_repo.manifest(entry)
    with (
        Emulator(manifest, powertools_repo.root, cache_dir=runtime_cache) as emulator,
        HttpApi(emulator, on_request=records.append) as running,
    ):
        yield running


def test_a_valid_request_is_answered_200(api: HttpApi, records: list[AccessRecord]) -> None:
    response = httpx.post(f"{api.url}/orders", json={"name": "widget", "quantity": 2}, timeout=30)
    assert response.status_code == 200
    assert response.json() == {"id": "o-1", "name": "widget", "quantity": 2}
    assert httpx.get(f"{api.url}/orders/o-9", timeout=30).json() == {"id": "o-9"}


def test_an_invalid_body_is_422_with_pydantic_details(api: HttpApi) -> None:
    response = httpx.post(f"{api.url}/orders", json={"name": "", "quantity": 0}, timeout=30)
    assert response.status_code == 422
    details = response.json()["detail"]
    assert {tuple(item["loc"]) for item in details} == {("body", "name"), ("body", "quantity")}
    assert {item["type"] for item in details} == {"string_too_short", "greater_than"}


def test_an_exception_is_500_and_logged_with_the_request_id(
    api: HttpApi, records: list[AccessRecord]
) -> None:
    response = httpx.get(f"{api.url}/boom", timeout=30)
    assert response.status_code == 500 and response.json() == {"message": "Internal Server Error"}
    record = next(r for r in reversed(records) if r.path == "/boom")
    assert record.result is not None and record.result.error is not None
    assert record.result.error.error_type == "RuntimeError"
    request_id = record.result.request_id
    logs = record.result.logs
    powertools_line = next(line for line in logs.splitlines() if "about to fail" in line)
    assert f'"function_request_id":"{request_id}"' in powertools_line.replace(" ", "")
    assert "[ERROR] RuntimeError: database unreachable" in logs
    assert logs.index("[ERROR] RuntimeError") < logs.index(f"END RequestId: {request_id}")
