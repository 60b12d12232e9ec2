"""The manifest: the application model serialised, versioned, with its committed JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from model_functions import model_function

from lambdapress.errors import ConfigError
from lambdapress.model import manifest as manifest_module
from lambdapress.model.application import Application
from lambdapress.model.manifest import (
    SCHEMA_FILE,
    manifest_schema,
    manifest_text,
    read_manifest,
    schema_text,
    write_manifest,
)
from lambdapress.model.permissions import Permission, resource_ref, writes_its_logs
from lambdapress.model.resources import DynamoDBTable, PostgresDatabase

TABLE = DynamoDBTable(service="shop", name="items", partition_key="id", sort_key="at")
DATABASE = PostgresDatabase(
    service="orders", name="orders", migrations="services/orders/migrations"
)


def application() -> Application:
    """Two services: one on a table, one on PostgreSQL, each function wired as package does."""
    get_item = model_function(
        "shop.get_item",
        routes=("GET /items/{item_id}",),
        uses=(TABLE.id,),
        permissions=(
            writes_its_logs("shop.get_item"),
            Permission(
                actions=("dynamodb:GetItem",), resources=(resource_ref(TABLE.id),), reason="x"
            ),
        ),
        capacity={"reserved_concurrency": 5, "warm_every_minutes": 10},
    )
    list_orders = model_function("orders.list_orders", routes=("GET /orders",), uses=(DATABASE.id,))
    return Application(functions=(list_orders, get_item), resources=(DATABASE, TABLE))


def test_the_committed_schema_is_the_models() -> None:
    """`python -m lambdapress.model.manifest > .../manifest.schema.json` after changing them."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text()


def test_a_manifest_validates_against_its_committed_schema(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    write_manifest(application(), path)
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(path.read_text()), schema)


def test_the_schema_rejects_what_the_reader_rejects(tmp_path: Path) -> None:
    schema = manifest_schema()
    data = json.loads(manifest_text(application()))
    data["functions"][0]["triggers"][0]["kind"] = "carrier-pigeon"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="unknown trigger kind 'carrier-pigeon'"):
        read_manifest(path)


def test_reading_back_gives_the_same_model_kinds_and_all(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    assert write_manifest(application(), path) is True
    again = read_manifest(path)
    assert again == application()
    assert isinstance(again.resources[1], DynamoDBTable)
    assert again.resources[1].sort_key == "at"
    assert again.function("shop.get_item").routes[0].route_key == "GET /items/{item_id}"
    assert again.used_by(again.function("shop.get_item")) == (TABLE,)


def test_an_unchanged_manifest_is_not_written_again(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    write_manifest(application(), path)
    written = path.stat().st_mtime_ns
    assert write_manifest(application(), path) is False
    assert path.stat().st_mtime_ns == written


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ({"version": 1, "functions": []}, "schema version 1, written by an older lambdapress"),
        ({"schema_version": 1, "functions": []}, "schema version 1, written by an older"),
        ({"schema_version": 3, "functions": []}, "schema version 3, written by a newer"),
        ({"schema_version": "2", "functions": []}, "no valid schema_version"),
        ({"functions": []}, "no valid schema_version"),
    ],
)
def test_a_manifest_of_another_version_is_refused_saying_what_to_run(
    tmp_path: Path, content: dict[str, object], says: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ConfigError, match=says) as caught:
        read_manifest(path)
    assert caught.value.path == path
    assert caught.value.hint is not None and "package" in caught.value.hint


def test_a_valid_manifest_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its JSON goes to the model alone: the version check reads only a refused one again."""
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"schema_version": 2, "functions": [], "resources": []}))
    monkeypatch.setattr(manifest_module.json, "loads", lambda *a, **k: pytest.fail("parsed twice"))
    assert read_manifest(path) == Application()
