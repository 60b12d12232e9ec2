"""Functions and routes are read from handler sources, never imported, and each unchanged
module only once: what it declares is remembered by its digest (`bundle.facts`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from triggers.tick_kind import Tick, TickKind

from lambdapress.bundle import discovery
from lambdapress.bundle._facts import FileFacts, seal, unsealed
from lambdapress.bundle._facts import path as facts_path
from lambdapress.bundle.discovery import (
    HandlerModule,
    check_all_triggers,
    discover_service,
    handlers_folder,
)
from lambdapress.config.settings import ServiceSettings
from lambdapress.config.workspace import Service
from lambdapress.errors import BundleError
from lambdapress.model.trigger_kinds import register_trigger_kind, unregister_trigger_kind


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


# -- remembered between runs (the planning cache, `bundle.facts`) ---------------------------------

ROUTED = (
    "app = APIGatewayHttpResolver()\n"
    '@app.get("/orders/<order_id>")\ndef get(): ...\n' + HANDLER.replace("app.resolve", "get")
)


class Parses:
    """Counts the handler modules discovery parses (each call of its parser)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real = discovery.parse_module

        def counted(path: Path) -> ast.Module:
            self.paths.append(path.name)
            return real(path)

        monkeypatch.setattr(discovery, "parse_module", counted)

    def take(self) -> list[str]:
        taken, self.paths = sorted(self.paths), []
        return taken


def _run(service: Service, cache: Path) -> tuple[HandlerModule, ...]:
    """One run's discovery: the facts loaded, used, saved (what `package` does)."""
    facts = FileFacts.load(cache)
    found = discover_service(service, facts)
    facts.save()
    return found


def test_an_unchanged_handler_is_not_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(tmp_path, {"get_order": ROUTED, "list_orders": HANDLER})
    parses = Parses(monkeypatch)
    first = _run(service, tmp_path / "cache")
    assert parses.take() == ["get_order.py", "list_orders.py"]

    second = _run(service, tmp_path / "cache")
    assert parses.take() == []
    assert second == first  # the same modules, lines and routes, read from the cache
    assert [r.route_key for r in second[0].routes] == ["GET /orders/{order_id}"]


def test_an_edit_parses_exactly_the_edited_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(tmp_path, {"get_order": ROUTED, "list_orders": HANDLER})
    parses = Parses(monkeypatch)
    _run(service, tmp_path / "cache")
    parses.take()
    edited = handlers_folder(service) / "get_order.py"
    edited.write_text(ROUTED.replace("/orders/<order_id>", "/v2/orders/<order_id>"))

    found = {f.name: f for f in _run(service, tmp_path / "cache")}
    assert parses.take() == ["get_order.py"]
    assert [r.route_key for r in found["orders.get_order"].routes] == ["GET /v2/orders/{order_id}"]


def test_a_new_handler_is_read_and_a_broken_one_is_never_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(tmp_path, {"get_order": ROUTED})
    parses = Parses(monkeypatch)
    _run(service, tmp_path / "cache")
    parses.take()
    (handlers_folder(service) / "broken.py").write_text("def main(event, context): ...\n")

    for _ in range(2):  # refused each run, until it is fixed
        with pytest.raises(BundleError, match="has no `handler` function"):
            _run(service, tmp_path / "cache")
        assert parses.take() == ["broken.py"]


def test_a_damaged_planning_cache_is_reported_and_every_handler_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(tmp_path, {"get_order": ROUTED, "list_orders": HANDLER})
    cache = tmp_path / "cache"
    first = _run(service, cache)
    stored = facts_path(cache)
    stored.write_bytes(stored.read_bytes()[: len(stored.read_bytes()) // 2])  # cut short
    parses = Parses(monkeypatch)

    facts = FileFacts.load(cache)
    assert any("is damaged" in warning for warning in facts.warnings)
    assert discover_service(service, facts) == first
    assert parses.take() == ["get_order.py", "list_orders.py"]


@pytest.mark.parametrize(
    "remembered",
    [
        {"handler_line": 3, "declared": [{"line": 2, "trigger": {"kind": "nope"}}]},
        {"handler_line": 3, "declared": [{"line": 2, "trigger": {"kind": "http"}}]},
        {"handler_line": "3", "declared": []},
        {"declared": []},
        ["not", "a", "mapping"],
    ],
)
def test_a_remembered_module_that_does_not_fit_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, remembered: object
) -> None:
    """The cache is sealed, yet what it holds is data: each value is checked as it is read."""
    service = make_service(tmp_path, {"get_order": ROUTED})
    cache = tmp_path / "cache"
    first = _run(service, cache)
    body = unsealed(facts_path(cache).read_bytes())
    (slot,) = body["derived"].values()  # [the module's digest, what it declares]
    slot[1] = remembered
    facts_path(cache).write_bytes(seal(body))
    parses = Parses(monkeypatch)

    assert _run(service, cache) == first
    assert parses.take() == ["get_order.py"]
    assert _run(service, cache) == first  # and what was read replaced it
    assert parses.take() == []


def test_registering_a_kind_reads_every_handler_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticking = 'TICKS = {"cleanup": 5}\n' + HANDLER
    service = make_service(tmp_path, {"cleanup": ticking})
    before = _run(service, tmp_path / "cache")
    assert before[0].triggers == ()  # nobody knows `TICKS` yet
    parses = Parses(monkeypatch)

    register_trigger_kind(TickKind())
    try:
        (after,) = _run(service, tmp_path / "cache")
    finally:
        unregister_trigger_kind("tick")
    assert parses.take() == ["cleanup.py"]
    assert after.triggers == (Tick(name="cleanup", every_minutes=5),)


def test_edits_leave_one_remembered_value_per_module(tmp_path: Path) -> None:
    """The latest bytes' only: a module edited a hundred times is not filed a hundred times."""
    service = make_service(tmp_path, {"get_order": ROUTED, "list_orders": HANDLER})
    edited = handlers_folder(service) / "get_order.py"
    for number in range(3):
        edited.write_text(ROUTED + f"\n# edit {number}\n")
        _run(service, tmp_path / "cache")
        assert len(unsealed(facts_path(tmp_path / "cache").read_bytes())["derived"]) == 2


QUEUED = (
    "from lambdapress_runtime import triggers\n"
    'DONE = triggers.Topic("shop/done")\n'
    '@triggers.sqs("jobs", batch_size=5)\n' + HANDLER
)


def test_triggers_and_uses_are_remembered_with_their_permissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(tmp_path, {"drain": QUEUED})
    parses = Parses(monkeypatch)
    (first,) = _run(service, tmp_path / "cache")
    assert [u.resource for u in first.used] == ["shop/sns-topic/done"]
    assert [t.label for t in first.triggers] == ["orders/jobs"]
    parses.take()

    (second,) = _run(service, tmp_path / "cache")
    assert parses.take() == []
    assert second == first
    assert second.used[0].permissions[0].actions == ("sns:Publish",)


def test_a_change_to_the_kinds_private_helpers_reads_every_handler_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The built-in kinds read modules with `lambdapress.triggers._declarations`: its code is
    theirs, so a new version of it must not answer from what the old one read."""
    from lambdapress.triggers import _declarations

    service = make_service(tmp_path, {"drain": QUEUED})
    _run(service, tmp_path / "cache")
    parses = Parses(monkeypatch)
    helper = Path(_declarations.__file__)
    real = FileFacts.digest

    def digest(self: FileFacts, path: Path) -> str:
        return "changed" if path == helper else real(self, path)

    monkeypatch.setattr(FileFacts, "digest", digest)
    _run(service, tmp_path / "cache")
    assert parses.take() == ["drain.py"]
