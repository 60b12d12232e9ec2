"""The storage backends' registry: built-in ones loaded when first asked for, declarations
validated by their backend with the file, the line and the fix, registration kept honest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from pydantic import BaseModel

from lambdapress.backends.dynamodb import physical_table_name, table_env_name
from lambdapress.config.settings import parse_service_settings
from lambdapress.config.workspace import Service
from lambdapress.errors import ConfigError
from lambdapress.model.kinds import RESOURCES
from lambdapress.model.resources import DynamoDBTable, Resource
from lambdapress.model.storage_backends import (
    BUILT_IN_BACKENDS,
    backend_of,
    register_storage_backend,
    storage_backend,
    storage_backends,
    storage_declaration,
    unregister_storage_backend,
)


def service(tmp_path: Path, storage: dict[str, Any], name: str = "orders") -> Service:
    """A service whose pyproject on disk declares `storage` (so errors have lines)."""
    folder = tmp_path / "services" / name
    folder.mkdir(parents=True)
    pyproject = folder / "pyproject.toml"
    data = {"project": {"name": name}, "tool": {"lambdapress": {"storage": storage}}}
    pyproject.write_text(tomlkit.dumps(data))
    settings = parse_service_settings(data, pyproject)
    return Service(name=name, import_name=name, path=folder, settings=settings, answers=None)


def test_the_built_in_backends_are_listed_once_and_each_module_has_its_backend() -> None:
    assert [b.name for b in storage_backends()] == ["postgres", "dynamodb", "memory"]
    for module_path, backend in zip(BUILT_IN_BACKENDS, storage_backends(), strict=True):
        assert type(backend).__module__ == module_path


def test_reading_a_manifest_loads_no_backend(tmp_path: Path) -> None:
    """The manifest is the model's: it parses, resources and all, without the backends' code."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        '{"schema_version": 2, "functions": [], "resources": [{"kind": "dynamodb-table", '
        '"service": "shop", "name": "items", "partition_key": "id"}]}'
    )
    script = (
        "import sys; from pathlib import Path\n"
        "from lambdapress.model.manifest import read_manifest\n"
        f"app = read_manifest(Path({str(manifest)!r}))\n"
        "print(type(app.resources[0]).__name__)\n"
        "print(sorted(m for m in sys.modules if m.startswith('lambdapress.backends')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["DynamoDBTable", "[]"]


def test_a_resource_finds_the_backend_that_made_it() -> None:
    table = DynamoDBTable(service="shop", name="items", partition_key="id")
    assert backend_of(table).name == "dynamodb"

    class Stray(Resource):
        kind: str = "stray"

    with pytest.raises(ConfigError, match="no storage backend makes resources of kind 'stray'"):
        backend_of(Stray(service="shop", name="x"))


def test_an_unknown_backend_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"no storage backend 'sqlite'.*'postgres'"):
        storage_backend("sqlite")


def _line(error: ConfigError) -> str:
    assert error.path is not None and error.line is not None
    return error.path.read_text().splitlines()[error.line - 1]


DYNAMODB_TABLES = {"customers": {"partition_key": "id"}}


@pytest.mark.parametrize(
    ("storage", "message", "line", "fix"),
    [
        (
            {"kind": "sqlite"},
            "no storage backend 'sqlite' (known: 'postgres', 'dynamodb', 'memory')",
            'kind = "sqlite"',
            "set kind to one of",
        ),
        (
            {"kind": "postgres", "tables": DYNAMODB_TABLES},
            "`tool.lambdapress.storage.tables` is a key of storage kind 'dynamodb', but kind "
            "is 'postgres'",
            "[tool.lambdapress.storage.tables",
            'set kind = "dynamodb", or remove tables',
        ),
        (
            {"kind": "dynamodb"},
            'kind "dynamodb" needs at least one table',
            "[tool.lambdapress.storage]",
            'partition_key = "id"',
        ),
        (
            {"kind": "dynamodb", "tables": {"Bad": {"partition_key": "id"}}},
            "'Bad' is not a table name",
            "[tool.lambdapress.storage.tables.Bad]",
            "lowercase letters",
        ),
        (  # the misspelling first, then the problem it explains
            {"kind": "dynamodb", "tabels": DYNAMODB_TABLES},
            "unknown key `tool.lambdapress.storage.tabels`\n  - `tool.lambdapress.storage."
            'tables`: kind "dynamodb" needs at least one table',
            "[tool.lambdapress.storage.tabels.customers]",
            "did you mean `tables`?",
        ),
        (
            {"kind": "dynamodb", "tables": {"customers": {"partition_ky": "id"}}},
            "unknown key `tool.lambdapress.storage.tables.customers.partition_ky`\n  - "
            "`tool.lambdapress.storage.tables.customers.partition_key`: required, but not set",
            'partition_ky = "id"',
            'with partition_key = "id"',
        ),
        (
            {"kind": "memory", "size": 3},
            "unknown key `tool.lambdapress.storage.size`",
            "size = 3",
            "known keys: kind",
        ),
    ],
)
def test_a_wrong_declaration_names_the_file_the_line_and_the_fix(
    tmp_path: Path, storage: dict[str, Any], message: str, line: str, fix: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        storage_declaration(service(tmp_path, storage), tmp_path)
    error = caught.value
    assert message in error.message
    assert error.path == tmp_path / "services/orders/pyproject.toml"
    assert _line(error).startswith(line)
    assert fix in (error.hint or "")


def test_a_valid_declaration_carries_its_backend_and_typed_settings(tmp_path: Path) -> None:
    declared = storage_declaration(
        service(tmp_path, {"kind": "dynamodb", "tables": DYNAMODB_TABLES}), tmp_path
    )
    assert declared.backend is storage_backend("dynamodb")
    assert declared.settings.tables["customers"].partition_key == "id"
    assert declared.service == "orders" and declared.root == tmp_path
    assert storage_declaration(service(tmp_path / "m", {}), tmp_path).backend.name == "memory"


def test_names_shared_by_db_emulator_and_deploy() -> None:
    assert table_env_name("customers") == "CUSTOMERS_TABLE"
    assert (
        physical_table_name("acme", "dev", "customers", "by_email") == "acme-dev-customers-by-email"
    )


class _Loose(BaseModel):
    """A settings model that would let a misspelt key through."""


class _Named:
    """Enough of a backend for the registry's own checks."""

    def __init__(self, name: str, settings: type[BaseModel], kinds: tuple[type[Resource], ...]):
        self.name = name
        self.settings_model = settings
        self.resource_kinds = kinds


def test_registration_refuses_a_second_backend_of_a_name_and_a_loose_settings_model() -> None:
    postgres = storage_backend("postgres")
    register_storage_backend(postgres)  # the same one again: nothing changes
    clash: Any = _Named("postgres", postgres.settings_model, ())
    with pytest.raises(TypeError, match="registered twice"):
        register_storage_backend(clash)
    loose: Any = _Named("loose", _Loose, ())
    with pytest.raises(TypeError, match="must forbid extra keys"):
        register_storage_backend(loose)
    assert "loose" not in [b.name for b in storage_backends()]


def test_unregistering_removes_the_resource_kinds_it_added_and_keeps_the_models() -> None:
    class Bucket(Resource):
        kind: str = "test-bucket"

    strict = storage_backend("memory").settings_model
    backend: Any = _Named("buckets", strict, (Bucket, DynamoDBTable))
    register_storage_backend(backend)
    try:
        assert "test-bucket" in RESOURCES.kinds()
        assert backend_of(Bucket(service="s", name="b")) is backend
    finally:
        unregister_storage_backend("buckets")
    assert "test-bucket" not in RESOURCES.kinds()
    assert "dynamodb-table" in RESOURCES.kinds()  # the model's own stays
    assert backend_of(DynamoDBTable(service="s", name="t", partition_key="k")).name == "dynamodb"


def test_the_readmes_recipe_names_every_member_of_the_protocol() -> None:
    """ "Add a storage backend" stays true to `StorageBackend` (and its local part)."""
    from lambdapress.model.storage_backends import LocalServer, LocalStorage, StorageBackend

    readme = Path(__file__).resolve().parents[2] / "README.md"
    text = readme.read_text(encoding="utf-8")
    recipe = text.split("### Add a storage backend", 1)[1].split("\n### ", 1)[0]
    members = {
        name
        for protocol in (StorageBackend, LocalStorage, LocalServer)
        for name in vars(protocol)
        if not name.startswith("_")
    }
    named = {m for m in members if f"`{m}`" in recipe or f"`{m}(" in recipe}
    assert named == members
