"""Authorizers under the local HTTP API: 401, 403 and 200 as a deployed HTTP API answers them.

The routes' functions and the Lambda authorizer are real artifacts in real workers; tokens come
from `lambdapress token` (the command itself) or the same key pair's `LocalIssuer`. What a
function receives is read back through Powertools' own event class, as handlers read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerEventV2,
)
from joserfc import jwt
from joserfc.jwk import RSAKey

from lambdapress.cli import main
from lambdapress.emulator import AccessRecord, ApiContext, HttpApi, http_api_event
from lambdapress.emulator.local_tokens import KEYS_FILE, LOCAL_ISSUER, LocalIssuer
from lambdapress.model.application import Application
from lambdapress.model.triggers import HttpAuthorizer, HttpRoute

from .conftest import EmulatorFactory, Repo, entry_for

FUNCTIONS = """
import json
import os

CALLS = []


def echo(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}


def gate(event, context):
    CALLS.append(event["identitySource"])
    allowed = event["headers"].get("x-api-key") == "open-sesame"
    return {"isAuthorized": allowed, "context": {"partner": "acme", "calls": len(CALLS)}}


def broken_gate(event, context):
    return {"allowed": True}
"""


def route(key: str, authorizer: str | None = None, scopes: tuple[str, ...] = ()) -> HttpRoute:
    method, path = key.split(" ", 1)
    return HttpRoute.model_validate(
        {"method": method, "path": path, "authorizer": authorizer, "scopes": scopes}
    )


def application(repo: Repo) -> Application:
    artifact = repo.artifact("auth", {"auth.py": FUNCTIONS})
    echo = entry_for(repo.root, artifact, "demo.echo", "auth.echo").model_copy(
        update={
            "triggers": (
                route("POST /orders", "users", ("orders:write",)),
                route("GET /partners/feed", "partners"),
                route("GET /broken", "broken"),
                route("GET /open"),
            )
        }
    )
    gate = entry_for(repo.root, artifact, "demo.gate", "auth.gate").model_copy(
        update={
            "triggers": (
                HttpAuthorizer(
                    name="partners", ttl=300, identity_source=("$request.header.x-api-key",)
                ),
            )
        }
    )
    broken = entry_for(repo.root, artifact, "demo.broken_gate", "auth.broken_gate").model_copy(
        update={"triggers": (HttpAuthorizer(name="broken", ttl=0),)}
    )
    return repo.manifest(echo, gate, broken)


@pytest.fixture
def served(
    repo: Repo, make_emulator: EmulatorFactory
) -> Iterator[tuple[httpx.Client, list[AccessRecord]]]:
    manifest = application(repo)
    repo.write(manifest)
    records: list[AccessRecord] = []
    emulator = make_emulator(manifest, repo.root)
    with (
        HttpApi(emulator, on_request=records.append, root=repo.root) as api,
        httpx.Client(base_url=api.url, timeout=30) as client,
    ):
        yield client, records


def cli_token(root: Path, capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    """What `lambdapress token ARGUMENTS` prints."""
    assert main(["token", "--root", str(root), *arguments]) == 0
    return capsys.readouterr().out.strip()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_jwt_route_is_401_without_a_token_403_without_its_scope_200_with_one(
    served: tuple[httpx.Client, list[AccessRecord]],
    repo: Repo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, records = served
    missing = client.post("/orders", json={})
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    assert records[-1].result is None  # the function was never invoked

    wrong = cli_token(repo.root, capsys, "--scope", "orders:read")
    forbidden = client.post("/orders", json={}, headers=bearer(wrong))
    assert (forbidden.status_code, forbidden.json()) == (403, {"message": "Forbidden"})
    assert "hold none of the route's ['orders:write']" in str(records[-1].problem)

    # Without --authorizer: the one JWT authorizer the build's routes name (users).
    good = cli_token(repo.root, capsys, "--scope", "orders:write", "--sub", "u-42")
    answered = client.post("/orders", json={}, headers=bearer(good))
    assert answered.status_code == 200
    event = APIGatewayProxyEventV2(answered.json())
    claims = event.request_context.authorizer.jwt_claim
    assert claims["sub"] == "u-42"
    assert claims["iss"] == LOCAL_ISSUER
    assert claims["aud"] == "users"
    assert claims["exp"].isdigit()  # API Gateway passes every claim as a string
    assert event.request_context.authorizer.jwt_scopes == ["orders:write"]


def test_an_open_route_needs_no_token(served: tuple[httpx.Client, list[AccessRecord]]) -> None:
    client, _ = served
    answered = client.get("/open")
    assert answered.status_code == 200
    assert "authorizer" not in answered.json()["requestContext"]


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": 1}, id="expired"),
        pytest.param({"aud": "admins"}, id="another-authorizer"),
        pytest.param({"iss": "https://elsewhere.example/"}, id="another-issuer"),
        pytest.param({"nbf": 4102444800}, id="not-yet-valid"),
    ],
)
def test_a_token_api_gateway_would_refuse_is_401(
    served: tuple[httpx.Client, list[AccessRecord]], repo: Repo, claims: dict[str, Any]
) -> None:
    client, _ = served
    token = LocalIssuer(repo.root).sign("users", scopes=["orders:write"], claims=claims)
    assert client.post("/orders", json={}, headers=bearer(token)).status_code == 401


def test_a_token_signed_by_another_key_is_401(
    served: tuple[httpx.Client, list[AccessRecord]], repo: Repo
) -> None:
    client, _ = served
    LocalIssuer(repo.root)  # the workspace's own pair exists; this one is not it
    stranger = RSAKey.generate_key(2048, private=True)
    claims = {"iss": LOCAL_ISSUER, "aud": "users", "exp": 4102444800, "scope": "orders:write"}
    token = jwt.encode({"alg": "RS256", "kid": "x"}, claims, stranger)
    assert client.post("/orders", json={}, headers=bearer(token)).status_code == 401


def test_the_key_pair_is_private_to_the_user_and_ignored_by_git(repo: Repo) -> None:
    LocalIssuer(repo.root)
    keys = repo.root / KEYS_FILE
    assert keys.stat().st_mode & 0o777 == 0o600
    assert (keys.parent / ".gitignore").read_text().splitlines()[-1] == "*"
    assert "d" in json.loads(keys.read_text())["keys"][0]  # the private part: kept here only


def test_a_lambda_authorizer_denies_allows_and_its_answer_is_cached(
    served: tuple[httpx.Client, list[AccessRecord]],
) -> None:
    client, records = served
    unasked = client.get("/partners/feed")
    assert (unasked.status_code, unasked.json()) == (401, {"message": "Unauthorized"})
    assert records[-1].result is None

    denied = client.get("/partners/feed", headers={"x-api-key": "guess"})
    assert (denied.status_code, denied.json()) == (403, {"message": "Forbidden"})

    allowed = client.get("/partners/feed", headers={"x-api-key": "open-sesame"})
    assert allowed.status_code == 200
    event = APIGatewayProxyEventV2(allowed.json())
    assert event.request_context.authorizer.get_lambda == {"partner": "acme", "calls": 2}

    again = client.get("/partners/feed", headers={"x-api-key": "open-sesame"})
    # Cached for the TTL per identity: the authorizer was not invoked a third time.
    assert APIGatewayProxyEventV2(again.json()).request_context.authorizer.get_lambda == {
        "partner": "acme",
        "calls": 2,
    }


def test_a_lambda_authorizer_that_answers_no_simple_response_is_500(
    served: tuple[httpx.Client, list[AccessRecord]],
) -> None:
    client, records = served
    answered = client.get("/broken", headers={"Authorization": "anything"})
    assert (answered.status_code, answered.json()) == (500, {"message": "Internal Server Error"})
    assert 'not {"isAuthorized": true|false}' in str(records[-1].problem)


def test_token_refuses_a_lifetime_it_cannot_read_and_a_missing_default(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write(repo.manifest())  # a workspace whose build protects nothing
    assert main(["token", "--root", str(repo.root), "--expires", "soon"]) == 1
    assert "'soon' is not a lifetime: write e.g. 90s, 10m, 1h or 7d" in capsys.readouterr().err
    assert main(["token", "--root", str(repo.root)]) == 1
    err = capsys.readouterr().err
    assert "no route of the build names a JWT authorizer" in err
    assert "lambdapress token --authorizer NAME" in err


def test_token_claims_and_lifetime_are_the_ones_asked_for(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write(repo.manifest())
    arguments = ["--authorizer", "admins", "--expires", "10m", "--claim", 'groups=["ops"]']
    token = cli_token(repo.root, capsys, *arguments, "--claim", "email=a@example.com")
    verified = LocalIssuer(repo.root).verify(f"Bearer {token}", "admins", ())
    claims = verified.claims
    assert (claims["groups"], claims["email"], claims["sub"]) == (
        ["ops"],
        "a@example.com",
        "local-user",
    )
    assert claims["exp"] - claims["iat"] == 600


def test_a_lambda_authorizer_s_sample_event_carries_its_identity_sources(repo: Repo) -> None:
    from lambdapress.model.trigger_kinds import sample_event

    gate = application(repo).function("demo.gate")
    event = sample_event(gate)
    assert (event["version"], event["type"]) == ("2.0", "REQUEST")
    assert event["identitySource"] == ["sample-value"]
    assert event["headers"]["x-api-key"] == "sample-value"
    assert event["routeArn"].endswith("/$default/GET/")
    read = APIGatewayAuthorizerEventV2(event)  # as a Powertools authorizer reads it
    assert (read.identity_source, read.parsed_arn.stage) == (["sample-value"], "$default")
    assert read.request_context.http.method == "GET"


def test_a_jwt_authorizer_s_identity_source_in_the_root_pyproject_is_where_serve_looks(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    manifest = application(repo)
    repo.write(manifest)
    pyproject = repo.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + "[tool.lambdapress.deploy.authorizers.users]\n"
        + 'issuer = "https://issuer.example/"\naudiences = ["client"]\n'
        + 'identity-source = "$request.header.X-Staff-Token"\n'
    )
    token = LocalIssuer(repo.root).sign("users", scopes=["orders:write"])
    with (
        HttpApi(make_emulator(manifest, repo.root), root=repo.root) as api,
        httpx.Client(base_url=api.url, timeout=30) as client,
    ):
        assert client.post("/orders", json={}, headers=bearer(token)).status_code == 401
        moved = client.post("/orders", json={}, headers={"X-Staff-Token": token})
        assert moved.status_code == 200


def test_the_readme_s_protected_handler_reads_the_claims_of_a_built_event() -> None:
    """The README's handler, run in-process on the event its unit tests would build."""
    readme = (Path(__file__).resolve().parents[4] / "README.md").read_text()
    section = readme[readme.index("### Authorizers: JWT and Lambda") :]
    start = section.index("```python\n") + len("```python\n")
    code = section[start : section.index("\n```", start)]
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (the README's own code)
    authorizer = {"jwt": {"claims": {"sub": "clerk-7"}, "scopes": ["shipments:read"]}}
    event = http_api_event(
        "GET",
        "/shipments/o-1",
        route="GET /shipments/{order_id}",
        api=ApiContext(authorizer=authorizer),
    )
    answer = namespace["handler"](event, None)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"order_id": "o-1", "checked_by": "clerk-7"}
