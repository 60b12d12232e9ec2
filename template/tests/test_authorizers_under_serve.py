"""Authorizers end to end: packaged like any function, enforced by `serve`, the README's commands.

A scratch copy of the example platform gets three handler modules in its fulfilment service:
the README's own `shipment_status` (a JWT authorizer `staff` with a scope), a carriers' feed
behind the Lambda authorizer `carriers`, and that authorizer, a function of its own. `package`
builds each into its own zip; `serve` runs them (the authorizer in a worker of its own); then
the README's block of "Authorizers" runs as written in bash, in the copy: `lambdapress token`
and `curl`, each answer's status the one its comment says.

What differs from the README, and only that: the test environment's `lambdapress` for
`lambdapress`, and a free port for `localhost:3000`. The authorizer's key is the copy's
environment variable (a real one would read a secret).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdapress.emulator import Emulator, Listeners, ServeOptions, serve
from lambdapress.model.application import Application
from lambdapress.model.triggers import HttpAuthorizer

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
SECTION = "### Authorizers: JWT and Lambda, enforced by `serve` too"
PARTS = ("pyproject.toml", "uv.lock", "packages", "services", "tools")
IGNORE = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache", ".mypy_cache", "dist")
LAMBDAPRESS = str(Path(sys.executable).parent / "lambdapress")
QUIET = Listeners(on_warning=lambda _message: None)
AUTHORIZED = {"fulfilment.shipment_status", "fulfilment.carrier_feed", "fulfilment.carrier_gate"}
"""The functions served: the queue and schedule workers would need moto's server, and are not
what this test is about."""

CARRIER_GATE = """
import hmac
import os

from lambdapress_runtime import triggers


@triggers.authorizer("carriers", ttl=300, identity_source=["$request.header.x-carrier-key"])
def handler(event, context):
    key = event["headers"].get("x-carrier-key", "")
    allowed = hmac.compare_digest(key.encode(), os.environ["CARRIER_KEY"].encode())
    return {"isAuthorized": allowed, "context": {"carrier": "parcel-co" if allowed else ""}}
"""
CARRIER_FEED = """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from lambdapress_runtime import triggers

app = APIGatewayHttpResolver()


@app.get("/carriers/feed")
def feed():
    carrier = app.current_event.request_context.authorizer.get_lambda["carrier"]
    return {"carrier": carrier, "shipments": []}


@triggers.authorized("carriers")
def handler(event, context):
    return app.resolve(event, context)
"""


def readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    return text[start : text.index("\n## ", start)]


def readme_block(language: str, holding: str) -> str:
    blocks = re.findall(rf"^ *```{language}\n(.*?)^ *```", readme_section(), re.S | re.M)
    return textwrap.dedent(next(b for b in blocks if holding in b))


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Application]]:
    """The example platform with the authorizers' modules added, packaged."""
    from lambdapress.bundle.pipeline import package
    from lambdapress.support.files import cache_folder

    root = tmp_path_factory.mktemp("authorizers") / "platform"
    root.mkdir()
    for part in PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, root / part, ignore=IGNORE)
        else:
            shutil.copy2(source, root / part)
    handlers = root / "services" / "fulfilment" / "src" / "fulfilment" / "handlers"
    (handlers / "shipment_status.py").write_text(readme_block("python", "shipment_status"))
    (handlers / "carrier_gate.py").write_text(CARRIER_GATE.lstrip())
    (handlers / "carrier_feed.py").write_text(CARRIER_FEED.lstrip())
    pyproject = root / "services" / "fulfilment" / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(
        text.replace(
            "[tool.lambdapress.environment]\n",
            '[tool.lambdapress.environment]\nCARRIER_KEY = "parcel-co-local"\n',
        )
    )
    previous = os.environ.get("LAMBDAPRESS_CACHE")
    os.environ["LAMBDAPRESS_CACHE"] = str(cache_folder(REPO_ROOT))
    try:
        yield root, package(root).manifest
    finally:
        if previous is None:
            os.environ.pop("LAMBDAPRESS_CACHE", None)
        else:
            os.environ["LAMBDAPRESS_CACHE"] = previous


def test_the_authorizer_is_a_function_of_its_own_and_the_routes_name_it(
    platform: tuple[Path, Application],
) -> None:
    root, manifest = platform
    gate = manifest.function("fulfilment.carrier_gate")
    assert gate.triggers == (
        HttpAuthorizer(
            name="carriers", ttl=300, identity_source=("$request.header.x-carrier-key",)
        ),
    )
    assert (root / gate.artifact.path).is_file()
    (status,) = manifest.function("fulfilment.shipment_status").routes
    assert (status.authorizer, status.scopes) == ("staff", ("shipments:read",))
    (feed,) = manifest.function("fulfilment.carrier_feed").routes
    assert (feed.authorizer, feed.scopes) == ("carriers", ())


def test_the_readme_s_token_and_curl_commands_answer_as_their_comments_say(
    platform: tuple[Path, Application], tmp_path: Path
) -> None:
    root, manifest = platform
    lines = [line for line in readme_block("bash", "lambdapress token").splitlines() if line]
    assert len(lines) == 6
    served = manifest.model_copy(
        update={"functions": tuple(f for f in manifest.functions if f.name in AUTHORIZED)}
    )
    with (
        Emulator(served, root, listeners=QUIET) as emulator,
        serve(emulator, ServeOptions(port=0, lambda_port=None)) as serving,
    ):
        port = str(serving.url).rsplit(":", 1)[1]
        answers: list[str] = []
        for line in lines:
            command, _, comment = line.partition("  # ")
            command = command.strip().replace("localhost:3000", f"127.0.0.1:{port}")
            command = re.sub(r"(^|\$\()lambdapress ", rf"\1{LAMBDAPRESS} ", command)
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", command],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, (line, result.stderr)
            if command.startswith(LAMBDAPRESS):
                claims = jwt_claims(result.stdout.strip())
                assert (claims["aud"], claims["scope"]) == ("staff", "shipments:read")
                continue
            status = int(result.stdout.split()[1])
            assert status == int(comment.split(":")[0].split()[0]), (line, result.stdout)
            answers.append(result.stdout.split("\n\n", 1)[1])  # text mode: \r\n read as \n
    assert json.loads(answers[0]) == {"message": "Unauthorized"}
    assert json.loads(answers[1]) == {"message": "Forbidden"}
    assert json.loads(answers[2]) == {"order_id": "o-1", "checked_by": "clerk-7"}
    assert json.loads(answers[3]) == {"message": "Forbidden"}
    assert json.loads(answers[4]) == {"carrier": "parcel-co", "shipments": []}


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified (the server verified it; this reads what it says)."""
    payload = token.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return claims
