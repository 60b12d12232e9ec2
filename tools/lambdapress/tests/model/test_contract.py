"""The manifest is the contract: after `package`, the services' files are not read again.

Issue 21's test of it: with every service's and package's pyproject (and their sources) gone
after `package`, `template` renders the same bytes and `invoke` and `serve` answer as before.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from lambdapress.bundle.pipeline import package
from lambdapress.cli import main

PING = {
    "services/shop/src/shop/handlers/ping.py": """
class APIGatewayHttpResolver:
    def get(self, path):
        return lambda function: function


app = APIGatewayHttpResolver()


@app.get("/ping")
def ping():
    return {"pong": True}


def handler(event, context):
    return {"statusCode": 200, "body": '{"pong": true}', "headers": {"x-route": event["routeKey"]}}
""",
}


def _invoke(root: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["invoke", "shop.ping", "--http", "GET", "/ping", "--root", str(root)])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


@pytest.mark.e2e
def test_template_invoke_and_serve_read_only_the_manifest_and_the_stage_settings(
    bare_workspace: Callable[[dict[str, str]], Path],
    runtime_cache: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(runtime_cache))
    root = bare_workspace(PING)
    package(root, jobs=1)
    assert main(["template", "--stage", "dev", "--root", str(root)]) == 0
    template = root / "dist" / "cloudformation" / "shop-dev.json"
    before = template.read_bytes()
    answered = _invoke(root, capsys)
    assert '"statusCode": 200' in answered and "GET /ping" in answered

    # Nothing of the services is left: no pyproject, no source. The root's settings stay.
    for folder in ("services", "packages"):
        shutil.rmtree(root / folder, ignore_errors=True)
    template.unlink()
    assert main(["template", "--stage", "dev", "--root", str(root)]) == 0
    assert template.read_bytes() == before
    assert _invoke(root, capsys) == answered

    env = {**os.environ, "LAMBDAPRESS_CACHE": str(runtime_cache), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdapress", "serve", "--port", "0", "--lambda-port", "0",
         "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        banner: list[str] = []
        for line in process.stdout:
            banner.append(line)
            if line.startswith("HTTP API:"):
                break
        url = banner[-1].split()[-1]
        response = httpx.get(f"{url}/ping", timeout=60)
        assert (response.status_code, response.json()) == (200, {"pong": True})
        assert response.headers["x-route"] == "GET /ping"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 143
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
