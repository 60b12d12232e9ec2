"""Names reach AWS checked: what Python accepts but Lambda, API Gateway, CloudFormation or
DynamoDB refuse stops `package` with the file, the line and the fix (see `aws_rules`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomlkit
from model_functions import model_function

from lambdapress.backends.postgres import DATABASE_SECRET_ENV
from lambdapress.bundle import package, pipeline
from lambdapress.bundle._aws_names import (
    SERVICE_FUNCTION,
    check_for_aws,
    stack_environment,
)
from lambdapress.bundle._wiring import function_wiring, service_resources
from lambdapress.bundle.discovery import check_all_triggers, discover_service
from lambdapress.cli import main
from lambdapress.config.aws_rules import ROUTE_METHODS, environment_size
from lambdapress.config.lambda_platform import ENVIRONMENT_MAX_BYTES
from lambdapress.config.settings import parse_service_settings
from lambdapress.config.stage_settings import STAGE_VARIABLES_AT_LONGEST
from lambdapress.config.workspace import Service, Workspace
from lambdapress.deploy import _template_services
from lambdapress.deploy.config import DeployConfig
from lambdapress.errors import BundleError, ConfigError
from lambdapress.model.application import Application
from lambdapress.triggers.http import METHODS

HANDLER = "\ndef handler(event, context):\n    return app.resolve(event, context)\n"
APP = "app = APIGatewayHttpResolver()\n"


def service_with(
    tmp_path: Path,
    handlers: dict[str, str],
    settings: dict[str, Any] | None = None,
    name: str = "orders",
) -> Service:
    folder = tmp_path / "services" / name
    package_folder = folder / "src" / name / "handlers"
    package_folder.mkdir(parents=True)
    (package_folder / "__init__.py").write_text("")
    for module, text in handlers.items():
        (package_folder / f"{module}.py").write_text(text)
    pyproject = folder / "pyproject.toml"
    data = {"project": {"name": name}, "tool": {"lambdapress": settings or {}}}
    pyproject.write_text(tomlkit.dumps(data))
    return Service(
        name=name,
        import_name=name,
        path=folder,
        settings=parse_service_settings(data, pyproject),
        answers=None,
    )


def check(*services: Service) -> None:
    workspace = Workspace(
        root=services[0].path.parent.parent,
        packages=(),
        services=services,
        template_root=False,
        answers=None,
    )
    functions = [f for s in services for f in discover_service(s)]
    check_all_triggers(functions)  # the HTTP kind's rules, routes' logical ids among them
    check_for_aws(workspace, functions)


# ---------------------------------------------------------------- handler module names


@pytest.mark.parametrize("module", ["commandé", "naïve_order", "Ωmega", "データ", "straße"])
def test_a_handler_module_with_a_non_ascii_letter_is_refused_at_its_handler(
    tmp_path: Path, module: str
) -> None:
    service = service_with(tmp_path, {module: "import json\n" + HANDLER})
    with pytest.raises(BundleError) as caught:
        check(service)
    error = caught.value
    assert error.path is not None and error.path.name == f"{module}.py"
    assert error.line == 3, "the line of `def handler`"
    assert "a Lambda function name cannot hold" in error.message
    assert "[a-zA-Z0-9-_]" in error.message or "ASCII letters" in error.message
    assert "rename the module" in (error.hint or "")
    if module == "commandé":
        assert "(e.g. commande.py)" in (error.hint or "")


@pytest.mark.parametrize("module", ["get_order", "GetOrder", "_", "x" * 60, "list_v2"])
def test_ascii_handler_modules_pass(tmp_path: Path, module: str) -> None:
    check(service_with(tmp_path, {module: HANDLER}))


@pytest.mark.parametrize("length", [129, 140])
def test_a_handler_longer_than_lambdas_128_characters_is_refused(
    tmp_path: Path, length: int
) -> None:
    # `orders.handlers.<module>.handler` is 24 characters plus the module's name
    service = service_with(tmp_path, {"m" * (length - 24): HANDLER})
    with pytest.raises(BundleError, match=f"has {length} characters; AWS allows 128") as caught:
        check(service)
    assert caught.value.line == 2 and "128" in (caught.value.hint or "")
    check(service_with(tmp_path / "ok", {"m" * (128 - 24): HANDLER}))


def test_a_service_named_with_a_non_ascii_letter_is_refused(tmp_path: Path) -> None:
    service = service_with(tmp_path, {"get": HANDLER}, name="café")
    with pytest.raises(BundleError, match="service name 'café'") as caught:
        check(service)
    assert caught.value.path == service.path / "pyproject.toml" and caught.value.line == 2


@pytest.mark.parametrize(
    ("first", "second"),
    [("get_order", "getOrder"), ("get_order", "Get_Order"), ("list_v2", "listV_2")],
)
def test_two_functions_under_one_logical_id_are_refused_at_package_time(
    tmp_path: Path, first: str, second: str
) -> None:
    service = service_with(tmp_path, {first: HANDLER, second: HANDLER})
    with pytest.raises(BundleError, match="both become the CloudFormation resource") as caught:
        check(service)
    assert caught.value.line == 2
    assert f"orders.{first}" in caught.value.message
    assert f"orders.{second}" in caught.value.message


def test_functions_of_two_services_under_one_logical_id_are_refused(tmp_path: Path) -> None:
    a_b = service_with(tmp_path, {"c": HANDLER}, name="a_b")
    a = service_with(tmp_path, {"b_c": HANDLER}, name="a")
    with pytest.raises(BundleError, match=r"a\.b_c and a_b\.c|a_b\.c and a\.b_c"):
        check(a_b, a)


# --------------------------------------------------------------------------------- routes


def route_module(path: str, verb: str = "get") -> str:
    return APP + f"@app.{verb}({path!r})\ndef route(): ...\n" + HANDLER


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/orders/{id}x", "a brace that does not wrap a whole segment"),
        ("/a{b}", "a brace that does not wrap a whole segment"),
        ("/orders/<id>.json", "a brace that does not wrap a whole segment"),
        ("/files/{proxy+}/meta", "greedy variable {proxy+} before its last segment"),
        ("/a//b", "empty segment"),
        ("/orders/", "ends with '/'"),
        ("/a/../b", "'..' segment"),
        ("/a/./b", "'.' segment"),
        ("/orders/<id>/lines/<id>", "names the variable 'id' twice"),
        ("/prix/€", "characters API Gateway refuses ('€')"),
        ("/with space", "characters API Gateway refuses (' ')"),
        ("/a~b", "characters API Gateway refuses ('~')"),
        ("/a/{b c}", "a brace that does not wrap a whole segment"),
        ("/a/{}", "a brace that does not wrap a whole segment"),
    ],
)
def test_a_route_api_gateway_would_refuse_is_refused_at_its_line(
    tmp_path: Path, path: str, words: str
) -> None:
    service = service_with(tmp_path, {"bad": route_module(path)})
    with pytest.raises(BundleError) as caught:
        check(service)
    error = caught.value
    assert words in error.message, error.message
    assert "does not parse" in error.message and error.line == 2
    assert "<name>" in (error.hint or "")


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/", "GET /"),
        ("/orders/<order_id>", "GET /orders/{order_id}"),
        ("/files/{proxy+}", "GET /files/{proxy+}"),
        ("/v1.0/items-all/a_b", "GET /v1.0/items-all/a_b"),
        ("/<a>/<b>/{rest+}", "GET /{a}/{b}/{rest+}"),
    ],
)
def test_routes_api_gateway_takes_pass(tmp_path: Path, path: str, key: str) -> None:
    service = service_with(tmp_path, {"ok": route_module(path)})
    check(service)
    assert [r.route_key for r in discover_service(service)[0].routes] == [key]


@pytest.mark.parametrize(
    ("one", "other"),
    [("/items/<id>", "/items/id"), ("/a-b", "/a_b"), ("/Items", "/items")],
)
def test_two_routes_under_one_logical_id_are_refused(tmp_path: Path, one: str, other: str) -> None:
    source = APP + f"@app.get({one!r})\ndef a(): ...\n@app.get({other!r})\ndef b(): ...\n"
    service = service_with(tmp_path, {"h": source + HANDLER})
    with pytest.raises(BundleError, match="both become the CloudFormation resource") as caught:
        check(service)
    assert caught.value.line == 4


def test_the_methods_discovery_accepts_are_the_ones_api_gateway_routes() -> None:
    assert METHODS == ROUTE_METHODS
    assert SERVICE_FUNCTION == pipeline.SERVICE_FUNCTION


# ------------------------------------------------------------------ environment variables


def near_limit(spare: int) -> dict[str, str]:
    """One variable `BIG` taking all of Lambda's 4 KB but `spare` bytes, as Lambda measures."""
    return {"BIG": "x" * (ENVIRONMENT_MAX_BYTES - environment_size({"BIG": ""}) - spare)}


TABLES = {"kind": "dynamodb", "tables": {"customers": {"partition_key": "id"}}}


@pytest.mark.parametrize(
    ("storage", "spare"),
    [
        (TABLES, 30),  # CUSTOMERS_TABLE and its name take far more than 30 bytes
        ({"kind": "postgres"}, 60),  # DATABASE_SECRET_NAME with the longest project and stage
        (
            {
                "kind": "dynamodb",
                "tables": {f"t{i}": {"partition_key": "id"} for i in range(20)},
            },
            1000,
        ),
    ],
)
def test_the_environment_limit_counts_what_the_stack_adds(
    tmp_path: Path, storage: dict[str, Any], spare: int
) -> None:
    settings = {"environment": near_limit(spare), "storage": storage}
    service = service_with(tmp_path, {"get": HANDLER}, settings)
    with pytest.raises(BundleError, match="Lambda allows 4096 in total") as caught:
        check(service)
    error = caught.value
    assert error.path == service.path / "pyproject.toml"
    lines = service.path.joinpath("pyproject.toml").read_text().splitlines()
    assert error.line is not None and lines[error.line - 1].startswith("BIG = ")
    assert "the stack adds" in error.message and "Parameter Store" in (error.hint or "")
    # without the service's own variable, the stack's fit
    check(service_with(tmp_path / "ok", {"get": HANDLER}, {"storage": storage}))


def deployed_environment(service: Service, project: str, stage: str) -> dict[str, object]:
    """What the deploy template gives a function of `service`, from the model package builds."""
    resources = service_resources(service, Path("/nowhere"))
    wiring = function_wiring(service, f"{service.name}.get", resources)
    function = model_function(f"{service.name}.get", uses=wiring.uses)
    application = Application(functions=(function,), resources=resources)
    return _template_services.resource_environment(application, function, project, stage)


def test_what_the_stack_adds_is_what_the_template_adds() -> None:
    """The package-time list of variables is the deploy's, names and all."""
    service = Service(
        name="orders",
        import_name="orders",
        path=Path("/nowhere/services/orders"),
        settings=parse_service_settings(
            {"tool": {"lambdapress": {"storage": TABLES}}}, Path("/nowhere/pyproject.toml")
        ),
        answers=None,
    )
    deployed = deployed_environment(service, "p" * 40, "s" * 16)
    added = stack_environment(service, Path("/nowhere"))
    assert set(added) == set(deployed)
    postgres = service.model_copy(
        update={
            "settings": parse_service_settings(
                {"tool": {"lambdapress": {"storage": {"kind": "postgres"}}}},
                Path("/nowhere/pyproject.toml"),
            )
        }
    )
    longest = stack_environment(postgres, Path("/nowhere"))
    assert set(longest) == set(deployed_environment(postgres, "acme", "dev"))
    assert longest[DATABASE_SECRET_ENV] == "p" * 40 + "/" + "s" * 16 + "/orders/database-url"


@pytest.mark.parametrize("key", ["CUSTOMERS_TABLE", "DATABASE_SECRET_NAME"])
def test_a_variable_the_stack_sets_is_refused_in_the_services_environment(
    tmp_path: Path, key: str
) -> None:
    storage = TABLES if key == "CUSTOMERS_TABLE" else {"kind": "postgres"}
    settings = {"environment": {"OTHER": "1", key: "x"}, "storage": storage}
    service = service_with(tmp_path, {"get": HANDLER}, settings)
    with pytest.raises(BundleError, match=f"sets {key} in") as caught:
        check(service)
    assert caught.value.hint and key in caught.value.hint
    assert caught.value.path == service.path / "pyproject.toml"
    lines = caught.value.path.read_text().splitlines()
    assert caught.value.line is not None and lines[caught.value.line - 1].startswith(key)


@pytest.mark.parametrize(
    "environment",
    [{"AWS_REGION": "x"}, {"_HANDLER": "x"}, {"1ABC": "x"}, {"A": "x"}, {"É": "x"}, {"A-B": "x"}],
)
def test_variable_names_lambda_refuses_are_config_errors(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    with pytest.raises(ConfigError):
        service_with(tmp_path, {"get": HANDLER}, {"environment": environment})


# ---------------------------------------------------------------------------- tables


@pytest.mark.parametrize(("service_name", "table"), [("s" * 150, "t" * 47), ("s" * 200, "t")])
def test_a_table_name_dynamodb_would_refuse_for_the_longest_stage_is_refused(
    tmp_path: Path, service_name: str, table: str
) -> None:
    storage = {"kind": "dynamodb", "tables": {table: {"partition_key": "id"}}}
    service = service_with(tmp_path, {}, {"storage": storage}, name=service_name)
    with pytest.raises(BundleError, match="the DynamoDB table name") as caught:
        check(service)
    assert "longest names allowed (40 and 16 characters)" in caught.value.message


def test_the_longest_project_and_stage_are_the_deploy_configs() -> None:
    with pytest.raises(ValueError, match="at most 40"):
        DeployConfig.model_validate({"project": "p" * 41})
    assert DeployConfig.model_validate({"project": "p" * 40}).stack_name("s" * 16)


# -------------------------------------------------------------- through `package` and the CLI


def test_package_refuses_a_non_ascii_handler_module_leaving_dist_as_it_was(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package(shop, jobs=1)
    dist = shop / "dist"
    before = {p: p.read_bytes() for p in dist.rglob("*") if p.is_file()}
    handlers = shop / "services/shop/src/shop/handlers"
    (handlers / "créer.py").write_text("def handler(event, context):\n    return {}\n")
    assert main(["package", "--root", str(shop)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {handlers / 'créer.py'}:1: handler module name 'créer'")
    assert "fix: rename the module" in err and "Traceback" not in err
    assert {p: p.read_bytes() for p in dist.rglob("*") if p.is_file()} == before
    assert Application.model_validate_json((dist / "manifest.json").read_text()).functions


def test_the_environment_limit_keeps_room_for_the_implementation_pins(tmp_path: Path) -> None:
    """`PSYCOPG_IMPL=binary` may be added after the closure is known: its bytes are reserved."""
    from lambdapress.bundle._implementations import pinned_variables

    pins = pinned_variables()
    assert set(pins) == {"PSYCOPG_IMPL"}
    assert len(pins["PSYCOPG_IMPL"]) == max(len(v) for v in ("binary", "c", "python"))
    # What a stage's settings add (tracing's switch, an RDS Proxy's endpoint) is reserved too.
    reserved = {**pins, **STAGE_VARIABLES_AT_LONGEST}
    room = environment_size({"BIG": "", **reserved}) - environment_size({"BIG": ""})
    fits = service_with(tmp_path / "fits", {"get": HANDLER}, {"environment": near_limit(room)})
    check(fits)
    crowded = service_with(
        tmp_path / "crowded", {"get": HANDLER}, {"environment": near_limit(room - 1)}
    )
    with pytest.raises(BundleError, match="implementation pins take up to"):
        check(crowded)
    # A service that sets the pin itself has it counted once, as its own: it fits exactly.
    own = {**near_limit(room), "PSYCOPG_IMPL": "binary"}
    check(service_with(tmp_path / "own", {"get": HANDLER}, {"environment": own}))


def test_a_variable_a_stage_sets_cannot_be_the_service_s_own(tmp_path: Path) -> None:
    service = service_with(
        tmp_path / "own", {"get": HANDLER}, {"environment": {"LAMBDAPRESS_TRACING": "xray"}}
    )
    with pytest.raises(BundleError, match=r"sets LAMBDAPRESS_TRACING in .*stage's settings"):
        check(service)


def test_the_names_of_secrets_and_parameters_count_at_their_longest() -> None:
    settings = {"secrets": {"stripe": {}}, "parameters": {"tax-rate": {"path": "/x/${stage}"}}}
    service = Service(
        name="orders",
        import_name="orders",
        path=Path("/nowhere/services/orders"),
        settings=parse_service_settings(
            {"tool": {"lambdapress": settings}}, Path("/nowhere/pyproject.toml")
        ),
        answers=None,
    )
    longest = stack_environment(service, Path("/nowhere"))
    assert set(longest) == set(deployed_environment(service, "acme", "dev"))
    assert longest["STRIPE_SECRET_NAME"] == "p" * 40 + "/" + "s" * 16 + "/orders/stripe"
    assert longest["TAX_RATE_PARAMETER_NAME"] == "/x/" + "s" * 16
