"""Route templates and API Gateway's most-specific-match rule."""

from __future__ import annotations

import pytest
from model_functions import model_function

from lambdapress.emulator.routes import RouteTable, RouteTemplate
from lambdapress.errors import EmulatorError
from lambdapress.model.application import Function


def _entry(name: str, *routes: tuple[str, str]) -> Function:
    return model_function(
        f"s.{name}",
        name=name,
        handler=f"{name}.handler",
        routes=routes,
        artifact=f"dist/{name}.zip",
    )


TABLE = RouteTable(
    [
        _entry("list", ("GET", "/orders")),
        _entry("get", ("GET", "/orders/{order_id}")),
        _entry("special", ("GET", "/orders/special")),
        _entry("create", ("POST", "/orders")),
        _entry("files", ("ANY", "/files/{path+}")),
        _entry("readme", ("GET", "/files/README")),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "function", "parameters"),
    [
        ("GET", "/orders", "list", {}),
        ("POST", "/orders", "create", {}),
        ("GET", "/orders/42", "get", {"order_id": "42"}),
        ("GET", "/orders/a b", "get", {"order_id": "a b"}),  # delivered paths are decoded
        ("GET", "/orders/a%2Fb", "get", {"order_id": "a%2Fb"}),  # ...and not decoded again
        ("GET", "/orders/special", "special", {}),  # a literal beats a variable
        ("GET", "/files/README", "readme", {}),  # an exact method beats ANY
        ("DELETE", "/files/a/b/c.txt", "files", {"path": "a/b/c.txt"}),
    ],
)
def test_the_most_specific_route_wins(
    method: str, path: str, function: str, parameters: dict[str, str]
) -> None:
    match = TABLE.match(method, path)
    assert match.target is not None and match.target.function == function
    assert match.parameters == parameters


def test_a_known_path_with_another_method_lists_the_allowed_ones() -> None:
    match = TABLE.match("DELETE", "/orders")
    assert match.target is None and match.allowed == ("GET", "POST")


def test_an_unknown_path_matches_nothing() -> None:
    match = TABLE.match("GET", "/customers")
    assert match.target is None and match.allowed == ()
    assert TABLE.match("GET", "/orders/1/extra").target is None
    # API Gateway routes the decoded path: a client's /orders/a%2Fb is /orders/a/b.
    assert TABLE.match("GET", "/orders/a/b").target is None
    assert TABLE.match("GET", "/orders/1\n").target is not None  # a decoded newline is data
    assert TABLE.match("GET", "/orders\n").target is None


def test_the_same_route_in_two_functions_is_an_error() -> None:
    with pytest.raises(EmulatorError, match="GET /x belongs to both a and b"):
        RouteTable([_entry("a", ("GET", "/x")), _entry("b", ("GET", "/x"))])


@pytest.mark.parametrize(
    ("path", "problem"),
    [("/files/{path+}/more", "must be the last segment"), ("/a/x{id}", "mixes text")],
)
def test_invalid_templates_are_errors(path: str, problem: str) -> None:
    with pytest.raises(EmulatorError, match=problem):
        RouteTemplate.compile(path)


def test_root_route() -> None:
    assert RouteTemplate.compile("/").match("/") == {}
    assert RouteTemplate.compile("/").match("/x") is None
