"""Authorizers declared in code: `@triggers.authorized` on routes, `@triggers.authorizer`.

Read at package time like every trigger decorator; a route believed protected but left open is
the mistake that matters, so every way of getting that wrong is refused at its line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.model.triggers import HttpAuthorizer, HttpRoute

from .events import IMPORT, Repo, line_of, refused

ROUTES = """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from lambdapress_runtime import triggers

app = APIGatewayHttpResolver()


@app.post("/orders")
def create():
    return {}


@app.get("/orders/<order_id>")
def read(order_id):
    return {}


"""
HANDLER = "def handler(event, context):\n    return app.resolve(event, context)\n"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def routes_of(repo: Repo, function: str) -> dict[str, HttpRoute]:
    return {r.route_key: r for r in repo.function(function).triggers if isinstance(r, HttpRoute)}


def test_every_route_of_the_module_gets_the_authorizer_and_its_scopes(repo: Repo) -> None:
    decorator = '@triggers.authorized("users", scopes=["orders:write", "admin"])\n'
    repo.service("orders", api=ROUTES + decorator + HANDLER)
    routes = routes_of(repo, "orders.api")
    for key in ("POST /orders", "GET /orders/{order_id}"):
        assert routes[key].authorizer == "users"
        assert routes[key].scopes == ("orders:write", "admin")


def test_routes_listed_by_key_get_their_own_authorizer_and_the_rest_stay_open(
    repo: Repo,
) -> None:
    decorator = '@triggers.authorized("users", scopes=["orders:write"], routes=["POST /orders"])\n'
    repo.service("orders", api=ROUTES + decorator + HANDLER)
    routes = routes_of(repo, "orders.api")
    assert (routes["POST /orders"].authorizer, routes["POST /orders"].scopes) == (
        "users",
        ("orders:write",),
    )
    assert routes["GET /orders/{order_id}"].authorizer is None


def test_a_powertools_path_in_routes_is_the_same_route(repo: Repo) -> None:
    decorator = '@triggers.authorized("users", routes=["get /orders/<order_id>"])\n'
    repo.service("orders", api=ROUTES + decorator + HANDLER)
    assert routes_of(repo, "orders.api")["GET /orders/{order_id}"].authorizer == "users"


def test_a_route_the_module_does_not_declare_is_refused(repo: Repo) -> None:
    decorator = '@triggers.authorized("users", routes=["DELETE /orders"])\n'
    repo.service("orders", api=ROUTES + decorator + HANDLER)
    path = repo.module("orders", "api")
    error = refused(repo, path, line_of(path, "@triggers.authorized"), fix="method and path")
    assert "DELETE /orders" in error.message
    assert "POST /orders, GET /orders/{order_id}" in error.message


def test_two_authorizers_on_one_route_are_refused(repo: Repo) -> None:
    decorators = (
        '@triggers.authorized("users")\n@triggers.authorized("partners", routes=["POST /orders"])\n'
    )
    repo.service("orders", api=ROUTES + decorators + HANDLER)
    path = repo.module("orders", "api")
    line = line_of(path, '"partners"')
    refused(repo, path, line, fix="a route has one authorizer")


def test_a_module_without_routes_cannot_be_protected(repo: Repo) -> None:
    source = IMPORT + '\n@triggers.authorized("users")\n' + HANDLER
    repo.service("orders", job=source)
    refused(repo, repo.module("orders", "job"), 3, fix="declare the routes in this module")


def test_scopes_must_be_a_list_of_scope_tokens(repo: Repo) -> None:
    repo.service("orders", api=ROUTES + '@triggers.authorized("users", scopes="a b")\n' + HANDLER)
    path = repo.module("orders", "api")
    refused(repo, path, line_of(path, "@triggers.authorized"), fix='scopes=["orders:write"]')


def test_a_lambda_authorizer_is_a_trigger_of_its_function(repo: Repo) -> None:
    source = (
        IMPORT
        + '@triggers.authorizer("partners", ttl=60, identity_source=["$request.header.x-key"])\n'
        + HANDLER
    )
    repo.service("gate", check=source)
    (trigger,) = repo.function("gate.check").triggers
    assert trigger == HttpAuthorizer(
        name="partners", ttl=60, identity_source=("$request.header.x-key",)
    )


def test_an_identity_source_api_gateway_does_not_know_is_refused(repo: Repo) -> None:
    source = IMPORT + '@triggers.authorizer("partners", identity_source=["x-key"])\n' + HANDLER
    repo.service("gate", check=source)
    error = refused(repo, repo.module("gate", "check"), 2, fix="AWS's")
    assert "'x-key' is not an identity source" in error.message


def test_two_functions_of_one_authorizer_name_are_refused(repo: Repo) -> None:
    source = IMPORT + '@triggers.authorizer("partners")\n' + HANDLER
    repo.service("gate", check=source, other=source)
    refused(repo, repo.module("gate", "other"), 2, fix="give each authorizer one function")


def test_an_authorizer_in_a_service_bundled_whole_is_refused(repo: Repo) -> None:
    source = IMPORT + '@triggers.authorizer("partners")\n' + HANDLER
    repo.service("gate", 'bundle = "service"\n', check=source)
    refused(repo, repo.module("gate", "check"), 2, fix="a function of its own")
