"""Property-based: nothing AWS would refuse gets through `package`, and nothing valid is refused.

Handler module names, route strings and environment maps are generated, put in a service on
disk and run through `package`'s own planning steps (discovery, settings, `check_for_aws`).
Whatever passes is rendered into the stack of the longest project and stage a deploy can have,
and every name and value in that template is checked against AWS's rules as AWS's own service
models write them (botocore's `service-2.json`: Lambda, CloudWatch Logs, DynamoDB), plus the
CloudFormation and API Gateway rules the models do not carry. Whatever is refused is refused
with a file (and, but for a file name Python cannot import, a line). In the other direction,
values generated from AWS's rules must all pass.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import botocore
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdapress.bundle._aws_names import check_for_aws
from lambdapress.bundle.discovery import HandlerModule, check_all_triggers, discover_service
from lambdapress.config.lambda_platform import RESERVED_ENVIRONMENT
from lambdapress.config.names import PROJECT_MAX, STAGE_MAX
from lambdapress.config.settings import parse_service_settings
from lambdapress.config.workspace import Service, Workspace
from lambdapress.errors import LambdapressError

from .stacks import config, entry, render

PROPERTIES = settings(
    max_examples=int(os.environ.get("LAMBDAPRESS_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROJECT = "p" * PROJECT_MAX
STAGE = "s" * STAGE_MAX
HANDLER = "\ndef handler(event, context):\n    return app.resolve(event, context)\n"

# ------------------------------------------------------------------- AWS's rules, from AWS


@cache
def shapes(service: str, version: str) -> dict[str, Any]:
    """A service's shapes from the API model botocore ships (what AWS publishes)."""
    path = Path(botocore.__file__).parent / "data" / service / version / "service-2.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as model:
        found: dict[str, Any] = json.load(model)["shapes"]
    return found


def matches(shape: dict[str, Any], value: str) -> bool:
    """Whether `value` satisfies a string shape: its pattern, its lengths."""
    if re.fullmatch(shape["pattern"], value, re.ASCII) is None:  # Java's classes are ASCII
        return False
    return bool(shape.get("min", 0) <= len(value) <= shape.get("max", len(value)))


def lambda_shape(name: str) -> dict[str, Any]:
    return shapes("lambda", "2015-03-31")[name]


def function_name_ok(name: str) -> bool:
    # CreateFunction's FunctionName (a name or an ARN); a name alone has at most 64 characters.
    return matches(lambda_shape("FunctionName"), name) and len(name) <= 64 and ":" not in name


LOGICAL_ID = re.compile(r"[A-Za-z0-9]{1,255}")  # CloudFormation User Guide: Resources
# An HTTP API route key, as the API Gateway Developer Guide describes it: a method or ANY, then
# "/" and segments, each literal or a whole {variable}; a greedy {variable+} only last.
ROUTE_KEY = re.compile(
    r"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) "
    r"(/|(/([A-Za-z0-9._-]+|\{[A-Za-z_][A-Za-z0-9_]*\}))*(/\{[A-Za-z_][A-Za-z0-9_]*\+\})?)"
)


def resolved_environment(template: dict[str, Any], variables: dict[str, Any]) -> dict[str, str]:
    """The variables as Lambda receives them: `Ref`s to tables as their names."""
    resources = template["Resources"]
    resolved: dict[str, str] = {}
    for key, value in variables.items():
        if isinstance(value, dict):
            resolved[key] = resources[value["Ref"]]["Properties"]["TableName"]
        else:
            resolved[key] = value
    return resolved


def assert_aws_accepts(template: dict[str, Any]) -> None:
    """Every name and value of the stack, against AWS's rules."""
    for logical_id, resource in template["Resources"].items():
        assert LOGICAL_ID.fullmatch(logical_id), logical_id
        properties = resource["Properties"]
        kind = resource["Type"]
        if kind == "AWS::Lambda::HandlerModule":
            assert function_name_ok(properties["FunctionName"]), properties["FunctionName"]
            assert matches(lambda_shape("Handler"), properties["Handler"])
            variables = properties.get("Environment", {}).get("Variables", {})
            for key in variables:
                assert matches(lambda_shape("EnvironmentVariableName"), key), key
                assert key not in RESERVED_ENVIRONMENT
            resolved = resolved_environment(template, variables)
            assert all("\0" not in value for value in resolved.values())
            # Lambda measures the variables as one JSON object ("String measured: {...}")
            measured = json.dumps(resolved, separators=(",", ":"), ensure_ascii=True)
            assert len(measured) <= 4096
        elif kind == "AWS::Logs::LogGroup":
            name = properties["LogGroupName"]
            assert matches(shapes("logs", "2014-03-28")["LogGroupName"], name), name
        elif kind == "AWS::DynamoDB::Table":
            name = properties["TableName"]
            assert matches(shapes("dynamodb", "2012-08-10")["TableName"], name), name
        elif kind == "AWS::ApiGatewayV2::Route":
            key = properties["RouteKey"]
            assert ROUTE_KEY.fullmatch(key), key
            names = re.findall(r"\{([^}+]+)\+?\}", key)
            assert len(names) == len(set(names)), key
            assert not re.search(r"/\.\.?(/|$)", key), key
        elif kind == "AWS::IAM::Role":
            assert "RoleName" not in properties, "CloudFormation names roles within IAM's 64"


# ------------------------------------------------------------- a service, as `package` sees it


def make_service(
    root: Path, modules: dict[str, str], settings_table: dict[str, Any] | None = None
) -> Service | None:
    """`services/orders` with these handler modules; None when the file system refuses a name."""
    folder = root / "services" / "orders"
    handlers = folder / "src" / "orders" / "handlers"
    handlers.mkdir(parents=True)
    (handlers / "__init__.py").write_text("")
    try:
        for module, text in modules.items():
            (handlers / f"{module}.py").write_text(text, encoding="utf-8")
    except (OSError, UnicodeEncodeError):
        return None
    pyproject = folder / "pyproject.toml"
    data = {"project": {"name": "orders"}, "tool": {"lambdapress": settings_table or {}}}
    pyproject.write_text(tomlkit.dumps(data), encoding="utf-8")
    return Service(
        name="orders",
        import_name="orders",
        path=folder,
        settings=parse_service_settings(data, pyproject),
        answers=None,
    )


def through_package(root: Path, service: Service) -> tuple[HandlerModule, ...] | None:
    """Discovery and the AWS check, as `plan_package` runs them: the functions, or None."""
    workspace = Workspace(
        root=root, packages=(), services=(service,), template_root=False, answers=None
    )
    try:
        functions = discover_service(service)
        check_all_triggers(functions)
        check_for_aws(workspace, functions)
    except LambdapressError as error:
        assert error.path is not None, f"an error without a file: {error}"
        assert error.hint, f"an error without a fix: {error}"
        named_by_file_name = "is not a Python module name" in error.message
        assert error.line is not None or named_by_file_name, f"no line: {error}"
        return None
    return functions


def deployed(functions: tuple[HandlerModule, ...], service: Service) -> list[dict[str, Any]]:
    """The stacks of the shortest and the longest project and stage, for these functions.

    Both: a long project and stage push the module's name out of a function's name (deploy
    cuts it to 64 characters), a short one keeps all of it.
    """
    entries = [
        entry(
            function.name,
            routes=function.routes,
            environment=dict(service.settings.environment),
        )
        for function in functions
    ]
    return [
        render(entries, [service], deploy=config(project=project), stage=stage)
        for project, stage in (("a", "d"), (PROJECT, STAGE))
    ]


def assert_deployable(functions: tuple[HandlerModule, ...], service: Service) -> None:
    for template in deployed(functions, service):
        assert_aws_accepts(template)


# ------------------------------------------------------------------- handler module names

ANY_NAME = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"),
    min_size=1,
    max_size=40,
) | st.sampled_from(["commandé", "naïve", "Ωmega", "データ", "straße", "get-order", "a.b"])
VALID_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,80}", fullmatch=True).filter(
    lambda name: not name.startswith("test_")
)


@PROPERTIES
@given(name=ANY_NAME)
def test_whatever_handler_name_package_accepts_aws_accepts(name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        service = make_service(root, {name: HANDLER})
        if service is None:
            return
        functions = through_package(root, service)
        if functions:
            assert_deployable(functions, service)


@PROPERTIES
@given(name=VALID_NAME)
def test_every_handler_name_aws_accepts_is_accepted(name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        service = make_service(root, {name: HANDLER})
        assert service is not None
        functions = through_package(root, service)
        assert functions is not None and [f.name for f in functions] == [f"orders.{name}"]
        assert_deployable(functions, service)


# --------------------------------------------------------------------------------- routes

ROUTE_CHARACTERS = st.sampled_from(list("/////{}<>+.-_~ %:aZ09é*")) | st.characters(
    blacklist_categories=("Cs",)
)
ANY_ROUTE = st.text(ROUTE_CHARACTERS, max_size=30) | st.text(ROUTE_CHARACTERS, max_size=30).map(
    lambda rest: "/" + rest
)


@st.composite
def valid_routes(draw: st.DrawFn) -> tuple[str, str]:
    """(a Powertools path, the route key API Gateway gets), built from AWS's route rules."""
    literal = st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,10}", fullmatch=True)
    names = draw(st.lists(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), unique=True))
    written: list[str] = []
    keyed: list[str] = []
    for name in names:
        if draw(st.booleans()):
            text = draw(literal)
            written.append(text)
            keyed.append(text)
        written.append(f"<{name}>")
        keyed.append(f"{{{name}}}")
    if draw(st.booleans()):
        written.append("{proxy+}")
        keyed.append("{proxy+}")
    method = draw(st.sampled_from(["get", "post", "put", "patch", "delete", "head", "options"]))
    path = "/" + "/".join(written)
    return f"@app.{method}({path!r})", f"{method.upper()} /" + "/".join(keyed)


def routed(decorator: str) -> str:
    return f"app = APIGatewayHttpResolver()\n{decorator}\ndef route(): ...\n" + HANDLER


@PROPERTIES
@given(path=ANY_ROUTE, verb=st.sampled_from(["get", "post", "delete"]))
def test_whatever_route_package_accepts_api_gateway_accepts(path: str, verb: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        service = make_service(root, {"h": routed(f"@app.{verb}({path!r})")})
        assert service is not None
        functions = through_package(root, service)
        if functions:
            assert_deployable(functions, service)


@PROPERTIES
@given(route=valid_routes())
def test_every_route_api_gateway_accepts_is_accepted(route: tuple[str, str]) -> None:
    decorator, key = route
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        service = make_service(root, {"h": routed(decorator)})
        assert service is not None
        functions = through_package(root, service)
        assert functions is not None, decorator
        assert [r.route_key for r in functions[0].routes] == [key]
        assert_deployable(functions, service)


# ------------------------------------------------------------------- environment variables

ANY_KEY = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12) | (
    st.sampled_from(["AWS_REGION", "TZ", "_HANDLER", "CUSTOMERS_TABLE", "DATABASE_URL", "A"])
)
ANY_VALUE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.text(
    st.sampled_from(list('x"\\é\0\n😀')), min_size=500, max_size=3000
)
TABLE_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,47}", fullmatch=True)
STORAGE = st.one_of(
    st.just({}),
    st.just({"kind": "postgres"}),
    st.lists(TABLE_NAMES, min_size=1, max_size=4, unique=True).map(
        lambda names: {"kind": "dynamodb", "tables": {n: {"partition_key": "id"} for n in names}}
    ),
)


VALID_KEY = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{1,20}", fullmatch=True).filter(
    lambda key: (
        key not in RESERVED_ENVIRONMENT and not key.endswith("_TABLE") and key != "DATABASE_URL"
    )
)
VALID_VALUE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=50)


def with_environment(root: Path, environment: dict[str, str], storage: dict[str, Any]) -> Any:
    table: dict[str, Any] = {"environment": environment}
    if storage:
        table["storage"] = storage
    try:
        return make_service(root, {"get": HANDLER}, table)
    except LambdapressError as error:  # refused when the settings are read: named, with a fix
        assert error.path is not None and error.hint
        return None


@PROPERTIES
@given(
    environment=st.dictionaries(ANY_KEY, ANY_VALUE, max_size=8)
    | st.dictionaries(VALID_KEY, VALID_VALUE, max_size=8),
    filler=st.none() | st.integers(min_value=2500, max_value=4100),
    storage=STORAGE,
)
def test_whatever_environment_package_accepts_lambda_accepts(
    environment: dict[str, str], filler: int | None, storage: dict[str, Any]
) -> None:
    """`filler` is one variable sized to land near 4 KB, alone or with the stack's."""
    if filler is not None:
        environment = {**environment, "FILLER": "f" * filler}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        service = with_environment(root, environment, storage)
        if service is None:
            return
        functions = through_package(root, service)
        if functions:
            assert_deployable(functions, service)


@PROPERTIES
@given(
    environment=st.dictionaries(VALID_KEY, VALID_VALUE, max_size=20),
    storage=st.one_of(
        st.just({}),
        st.just({"kind": "postgres"}),
        st.lists(TABLE_NAMES, min_size=1, max_size=2, unique=True).map(
            lambda names: {
                "kind": "dynamodb",
                "tables": {n: {"partition_key": "id"} for n in names},
            }
        ),
    ),
)
def test_every_environment_within_lambdas_rules_is_accepted(
    environment: dict[str, str], storage: dict[str, Any]
) -> None:
    """20 variables of 77 bytes, two tables' or the database's variables: always under 4 KB."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        service = with_environment(root, environment, storage)
        assert service is not None
        functions = through_package(root, service)
        assert functions is not None
        assert_deployable(functions, service)
