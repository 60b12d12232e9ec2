"""`docstrings = "checked"`, the default: docstrings dropped only where that was checked safe.

A service on pydantic (on lambdapress's list of distributions checked never to read their own
docstrings) and markupsafe (not on it) is built, unzipped and imported by a Python of the
target version alone (`python -I -S`, the task folder first), as Lambda would: pydantic's
bytecode has no docstrings, markupsafe's keeps them, and a first-party model's JSON schema (its
docstrings are its descriptions) is the same as from a build that keeps every docstring.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any, cast

import pytest

from lambdapress.bundle import package
from lambdapress.bundle.bytecode import find_compiler
from lambdapress.bundle.lock import read_lock
from lambdapress.bundle.targets import Target
from lambdapress.bundle.wheels import Installer, SourcePolicy, ensure_installed
from lambdapress.config.docstrings import CheckedDocstrings, checked_docstrings

PYPROJECT = "services/greet/pyproject.toml"
FILES: dict[str, str] = {
    "pyproject.toml": """
[tool.uv.workspace]
members = ["services/*"]
""",
    PYPROJECT: """
[project]
name = "greet"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["pydantic==2.14.4", "aws-lambda-powertools==3.37.0", "markupsafe"]

[tool.uv]
package = false

[tool.lambdapress]
runtime = "python3.11"
architecture = "x86_64"
""",
    "services/greet/src/greet/__init__.py": "",
    "services/greet/src/greet/models.py": '''
"""The service's own models: first-party code, which keeps its docstrings."""

from datetime import datetime
from enum import Enum

from pydantic import AnyUrl, BaseModel, Field, RootModel, computed_field, constr


class Colour(str, Enum):
    """A colour of the catalogue."""

    RED = "red"
    BLUE = "blue"


class Tags(RootModel[list[str]]):
    """Labels, most important first."""


class Item(BaseModel):
    """An item of the shop, as the API shows it."""

    url: AnyUrl
    code: constr(pattern=r"^[A-Z]{3}$", max_length=3)
    colour: Colour
    created: datetime
    tags: Tags
    ranks: RootModel[list[int]]
    note: str = Field(default="", description="Free text.")

    @computed_field
    @property
    def label(self) -> str:
        """The code and the colour, for people."""
        return f"{self.code} ({self.colour.value})"
''',
    "services/greet/src/greet/handlers/__init__.py": "",
    "services/greet/src/greet/handlers/api.py": """
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import BaseModel, Field

logger = Logger(service="greet")
app = APIGatewayHttpResolver(enable_validation=True)


class OrderIn(BaseModel):
    \"\"\"An order, as a client sends it.\"\"\"

    name: str = Field(min_length=1)
    quantity: int = Field(gt=0)


@app.post("/orders")
def create(order: OrderIn) -> dict[str, Any]:
    \"\"\"Take an order.\"\"\"
    return {"id": "o-1", **order.model_dump()}


@app.get("/boom")
def boom() -> dict[str, Any]:
    logger.info("about to fail")
    raise RuntimeError("database unreachable")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
""",
    "services/greet/src/greet/handlers/hello.py": """
from markupsafe import escape

from greet.models import Item


def handler(event, context):
    return {"item": Item.model_validate(event).model_dump(mode="json"), "html": str(escape("<b>"))}
""",
}

# Run by the target's Python with the unzipped zip alone on its path.
SCRIPT = """
import json, sys
sys.path[:0] = [sys.argv[1]]
import aws_lambda_powertools.event_handler, markupsafe, pydantic, pydantic.main
from greet.handlers.api import app
from greet.models import Item
print(json.dumps({
    "pydantic": pydantic.main.BaseModel.__doc__ is not None,
    "pydantic.Field": pydantic.Field.__doc__ is not None,
    "powertools": aws_lambda_powertools.event_handler.APIGatewayHttpResolver.__doc__ is not None,
    "markupsafe": markupsafe.Markup.__doc__ is not None,
    "schemas": [Item.model_json_schema(), Item.model_json_schema(mode="serialization")],
    "openapi": json.loads(app.get_openapi_json_schema(title="greet", version="1")),
}, sort_keys=True))
"""


def set_docstrings(root: Path, value: str) -> None:
    path = root / PYPROJECT
    text = path.read_text()
    path.write_text(
        text.replace("[tool.lambdapress]\n", f'[tool.lambdapress]\ndocstrings = "{value}"\n')
    )


@pytest.fixture(scope="module")
def greet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The service, locked by uv."""
    root = tmp_path_factory.mktemp("docstrings") / "workspace"
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"))
    result = subprocess.run(
        ["uv", "lock", "--quiet"], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return root


def run_from_zip(root: Path, task: Path) -> dict[str, Any]:
    """Build `root`'s function, unzip it into `task` and run SCRIPT there."""
    python = find_compiler("3.11")
    assert python is not None, "the service targets python3.11, which this machine has"
    manifest = package(root, jobs=2).manifest
    for function in ("greet.hello", "greet.api"):  # the models' handler, then Powertools'
        with zipfile.ZipFile(root / manifest.function(function).artifact.path) as archive:
            archive.extractall(task)
    result = subprocess.run(
        [python, "-I", "-S", "-c", SCRIPT, str(task)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=task,
    )
    assert result.returncode == 0, result.stderr
    return cast(dict[str, Any], json.loads(result.stdout))


@pytest.fixture(scope="module")
def as_defaulted(greet: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the zip built with the default settings says."""
    return run_from_zip(greet, tmp_path_factory.mktemp("default"))


def test_the_default_drops_the_docstrings_of_a_listed_distribution_only(
    as_defaulted: dict[str, Any],
) -> None:
    assert checked_docstrings().covers("pydantic", "2.14.4")
    assert not checked_docstrings().covers("markupsafe", "3.0.0")
    assert as_defaulted["pydantic"] is False
    assert as_defaulted["pydantic.Field"] is False
    assert as_defaulted["powertools"] is False
    assert as_defaulted["markupsafe"] is True


def test_a_first_party_models_json_schema_and_openapi_are_the_same_as_with_every_docstring(
    greet: Path, as_defaulted: dict[str, Any], tmp_path: Path
) -> None:
    every = tmp_path / "every"
    shutil.copytree(greet, every, ignore=shutil.ignore_patterns("dist", ".cache"))
    set_docstrings(every, "all")

    kept = run_from_zip(every, tmp_path / "task")

    assert kept["pydantic"] is True and as_defaulted["pydantic"] is False  # two builds apart
    assert as_defaulted["schemas"] == kept["schemas"]
    assert as_defaulted["openapi"] == kept["openapi"]
    components = kept["openapi"]["components"]["schemas"]
    assert components["OrderIn"]["description"] == "An order, as a client sends it."
    assert "HTTPValidationError" in components  # Powertools' own, from a dict: no docstring
    validation, serialization = kept["schemas"]
    # The descriptions are the first-party docstrings, which both builds keep.
    assert validation["description"] == "An item of the shop, as the API shows it."
    definitions = validation["$defs"]
    assert definitions["Colour"]["description"] == "A colour of the catalogue."
    assert definitions["Tags"]["description"] == "Labels, most important first."
    assert "description" not in definitions["RootModel_list_int__"]
    assert serialization["properties"]["label"]["description"] == (
        "The code and the colour, for people."
    )
    assert validation["properties"]["url"]["format"] == "uri"
    assert validation["properties"]["created"]["format"] == "date-time"
    assert validation["properties"]["code"]["pattern"] == "^[A-Z]{3}$"


def test_a_listed_distribution_locked_outside_its_range_keeps_its_docstrings(
    greet: Path, tmp_path: Path
) -> None:
    python = find_compiler("3.11")
    assert python is not None, "the service targets python3.11, which this machine has"
    markupsafe = read_lock(greet).find("markupsafe")
    target = Target(python="3.11", architecture="x86_64")

    def docstrings_kept(versions: str) -> bool:
        checked = CheckedDocstrings.model_validate(
            {"distributions": {"markupsafe": {"versions": versions, "checked": "", "reads": ""}}}
        )
        policy = SourcePolicy("first-party", frozenset(), "checked", checked)
        installed = ensure_installed([markupsafe], target, Installer(tmp_path / "cache"), policy)[
            "markupsafe"
        ]
        assert (installed.folder / "markupsafe" / "__init__.pyc").is_file()
        script = "import sys; sys.path[:0] = [sys.argv[1]]; import markupsafe; "
        script += "print(markupsafe.Markup.__doc__ is not None)"
        result = subprocess.run(
            [python, "-I", "-S", "-c", script, str(installed.folder)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        kept = result.stdout.strip() == "True"
        assert installed.docstrings is kept
        return kept

    assert not docstrings_kept(f"=={markupsafe.version}")  # listed at its version: dropped
    assert docstrings_kept(f"<{markupsafe.version}")  # at a version nobody checked: kept
    assert docstrings_kept(f">{markupsafe.version}")


def test_the_inputs_hash_changes_with_a_distributions_docstrings(
    greet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdapress.bundle import wheels

    root = tmp_path / "workspace"
    shutil.copytree(greet, root, ignore=shutil.ignore_patterns("dist", ".cache"))
    first = package(root, jobs=2).manifest.function("greet.hello")
    unchecked = CheckedDocstrings.model_validate({"distributions": {}})
    monkeypatch.setattr(
        wheels.SourcePolicy,
        "of",
        classmethod(
            lambda cls, s: cls(s.sources, frozenset(s.keep_sources), s.docstrings, unchecked)
        ),
    )

    second = package(root, jobs=2).manifest.function("greet.hello")

    assert second.artifact.inputs_hash != first.artifact.inputs_hash
    assert second.artifact.size > first.artifact.size  # pydantic's docstrings are back


@pytest.mark.e2e
def test_powertools_and_pydantic_without_docstrings_answer_under_the_runtime_client(
    greet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdapress.emulator import Emulator, Listeners
    from lambdapress.emulator.events import http_api_event
    from lambdapress.support.files import cache_folder

    repository = Path(__file__).resolve().parents[4]
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(cache_folder(repository)))  # its runtime client
    root = tmp_path / "workspace"
    shutil.copytree(greet, root, ignore=shutil.ignore_patterns("dist", ".cache"))
    manifest = package(root, jobs=2).manifest
    with zipfile.ZipFile(root / manifest.function("greet.api").artifact.path) as archive:
        shipped = archive.read("aws_lambda_powertools/event_handler/api_gateway.pyc")
        shipped += archive.read("pydantic/main.pyc")
    assert b"Amazon API Gateway HTTP API v2 payload resolver" not in shipped
    assert b"A base class for creating Pydantic models" not in shipped

    def post(body: dict[str, Any]) -> dict[str, Any]:
        return http_api_event("POST", "/orders", route="/orders", json_body=body)

    with Emulator(manifest, root, listeners=Listeners(on_warning=lambda _m: None)) as emulator:
        created = emulator.invoke("greet.api", post({"name": "widget", "quantity": 2}))
        refused = emulator.invoke("greet.api", post({"name": "", "quantity": 0}))
        failed = emulator.invoke("greet.api", http_api_event("GET", "/boom", route="/boom"))

    answer = json.loads(created.payload)
    assert answer["statusCode"] == 200, created.logs
    assert json.loads(answer["body"]) == {"id": "o-1", "name": "widget", "quantity": 2}
    answer = json.loads(refused.payload)
    assert answer["statusCode"] == 422, refused.logs
    details = json.loads(answer["body"])["detail"]
    assert {item["type"] for item in details} == {"string_too_short", "greater_than"}
    # Unhandled: a function error (the HTTP front end's 500), logged by Powertools' logger.
    assert failed.error is not None and failed.error.error_type == "RuntimeError"
    line = next(line for line in failed.logs.splitlines() if "about to fail" in line)
    assert f'"function_request_id":"{failed.request_id}"' in line.replace(" ", "")
