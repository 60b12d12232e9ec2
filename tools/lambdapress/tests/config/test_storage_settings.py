"""`[tool.lambdapress.storage]`: one declaration read by db, the emulator and deploy."""

from pathlib import Path

import pytest

from lambdapress.config.settings import load_service_settings
from lambdapress.config.storage_settings import physical_table_name, table_env_name
from lambdapress.errors import ConfigError


def _settings(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(body)
    return path


def test_default_is_memory(tmp_path: Path) -> None:
    settings = load_service_settings(_settings(tmp_path, "[tool.lambdapress]\n"))
    assert settings.storage.kind == "memory"
    assert settings.storage.tables == {}


def test_dynamodb_tables_are_read(tmp_path: Path) -> None:
    path = _settings(
        tmp_path,
        '[tool.lambdapress.storage]\nkind = "dynamodb"\n'
        '[tool.lambdapress.storage.tables.customers]\npartition_key = "id"\nsort_key = "at"\n',
    )
    table = load_service_settings(path).storage.tables["customers"]
    assert (table.partition_key, table.sort_key) == ("id", "at")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('kind = "postgres"\n[tool.lambdapress.storage.tables.x]\npartition_key = "id"\n', "use"),
        ('kind = "dynamodb"\n', "needs at least one table"),
        ('kind = "dynamodb"\n[tool.lambdapress.storage.tables.Bad]\npartition_key = "id"\n', "Bad"),
        ('kind = "sqlite"\n', "sqlite"),
    ],
)
def test_bad_storage_names_file_and_fix(tmp_path: Path, body: str, message: str) -> None:
    path = _settings(tmp_path, "[tool.lambdapress.storage]\n" + body)
    with pytest.raises(ConfigError) as caught:
        load_service_settings(path)
    text = str(caught.value)
    assert str(path) in text
    assert message in text
    assert "partition_key" in text  # the fix names the shape of a table


def test_names_shared_by_db_emulator_and_deploy() -> None:
    assert table_env_name("customers") == "CUSTOMERS_TABLE"
    assert (
        physical_table_name("acme", "dev", "customers", "by_email") == "acme-dev-customers-by-email"
    )
