"""Functions and routes are read from handler sources, never imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.bundle.discovery import check_all_triggers, discover_service
from lambdapress.config.settings import ServiceSettings
from lambdapress.config.workspace import Service
from lambdapress.errors import BundleError


def make_service(tmp_path: Path, handlers: dict[str, str]) -> Service:
    folder = tmp_path / "services" / "orders"
    package = folder / "src" / "orders" / "handlers"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name, text in handlers.items():
        (package / f"{name}.py").write_text(text)
    return Service(
        name="orders",
        import_name="orders",
        path=folder,
        settings=ServiceSettings(),
        answers=None,
    )


HANDLER = "\ndef handler(event, context):\n    return app.resolve(event, context)\n"


def test_routes_come_from_resolver_decorators_in_api_gateway_syntax(tmp_path: Path) -> None:
    service = make_service(
        tmp_path,
        {
            "get_order": "from x import APIGatewayHttpResolver\n"
            "app = APIGatewayHttpResolver(enable_validation=True)\n"
            '@app.get("/orders/<order_id>/lines/<line_id>")\ndef get(): ...\n' + HANDLER,
            "many": "import aws_lambda_powertools.event_handler as eh\n"
            "app: eh.ALBResolver = eh.ALBResolver()\n"
            '@app.route("/things", method=["GET", "post"])\ndef things(): ...\n'
            '@app.route("/plain")\ndef plain(): ...\n' + HANDLER,
        },
    )
    functions = {f.name: f for f in discover_service(service)}
    assert set(functions) == {"orders.get_order", "orders.many"}
    get = functions["orders.get_order"]
    assert [r.route_key for r in get.routes] == ["GET /orders/{order_id}/lines/{line_id}"]
    assert get.handler == "orders.handlers.get_order.handler"
    assert [r.route_key for r in functions["orders.many"].routes] == [
        "GET /things",
        "POST /things",
        "GET /plain",
    ]


def test_decorators_of_other_objects_are_not_routes(tmp_path: Path) -> None:
    service = make_service(
        tmp_path,
        {
            "job": "import functools\ncache = functools.lru_cache\n"
            '@cache.get("/not/a/route")\ndef f(): ...\n' + HANDLER.replace("app.resolve", "f")
        },
    )
    (function,) = discover_service(service)
    assert function.routes == ()


def test_a_module_without_handler_is_an_error_naming_it(tmp_path: Path) -> None:
    service = make_service(tmp_path, {"broken": "def main(event, context):\n    return 1\n"})
    with pytest.raises(BundleError, match="has no `handler` function") as caught:
        discover_service(service)
    assert caught.value.path is not None and caught.value.path.name == "broken.py"


def test_syntax_errors_name_the_line(tmp_path: Path) -> None:
    service = make_service(tmp_path, {"bad": "x = 1\ndef handler(:\n"})
    with pytest.raises(BundleError, match="syntax error") as caught:
        discover_service(service)
    assert caught.value.line == 2


@pytest.mark.parametrize(
    "decorator",
    [
        "@app.get(PATH)",
        '@app.get("orders")',
        '@app.get("/orders/<id")',
        '@app.route("/x", method=M)',
    ],
)
def test_routes_that_do_not_parse(tmp_path: Path, decorator: str) -> None:
    source = f"app = APIGatewayHttpResolver()\n{decorator}\ndef f(): ...\n" + HANDLER
    service = make_service(tmp_path, {"bad": source})
    with pytest.raises(BundleError) as caught:
        discover_service(service)
    assert caught.value.line == 2


def test_one_route_on_two_functions_is_refused_even_with_other_parameter_names(
    tmp_path: Path,
) -> None:
    app = "app = APIGatewayHttpResolver()\n"
    service = make_service(
        tmp_path,
        {
            "a": app + '@app.get("/orders/<order_id>")\ndef f(): ...\n' + HANDLER,
            "b": app + '@app.get("/orders/<id>")\ndef g(): ...\n' + HANDLER,
        },
    )
    with pytest.raises(BundleError, match="is declared twice") as caught:
        check_all_triggers(discover_service(service))
    assert "a.py" in str(caught.value) and caught.value.path is not None
