"""`[tool.lambdapress.storage]` as read: a backend's name and its keys, validated by the backend.

Configuration sits below the backends' registry, so it only reads the table; the backends'
validation, with the file and the line, is tested in `model/test_storage_backends.py`.
"""

from pathlib import Path

import pytest

from lambdapress.config.settings import load_service_settings
from lambdapress.errors import ConfigError


def _settings(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(body)
    return path


def test_default_is_memory(tmp_path: Path) -> None:
    settings = load_service_settings(_settings(tmp_path, "[tool.lambdapress]\n"))
    assert settings.storage.kind == "memory"
    assert settings.storage.options == {}


def test_a_backends_keys_are_kept_as_written_for_it_to_validate(tmp_path: Path) -> None:
    path = _settings(
        tmp_path,
        '[tool.lambdapress.storage]\nkind = "dynamodb"\n'
        '[tool.lambdapress.storage.tables.customers]\npartition_key = "id"\nsort_key = "at"\n',
    )
    storage = load_service_settings(path).storage
    assert storage.kind == "dynamodb"
    assert storage.options == {"tables": {"customers": {"partition_key": "id", "sort_key": "at"}}}


@pytest.mark.parametrize("kind", ['"Postgres SQL"', "3", '""'])
def test_a_kind_that_cannot_name_a_backend_is_refused_at_its_line(
    tmp_path: Path, kind: str
) -> None:
    path = _settings(tmp_path, f"[tool.lambdapress.storage]\nkind = {kind}\n")
    with pytest.raises(ConfigError) as caught:
        load_service_settings(path)
    assert caught.value.path == path
    assert caught.value.line == 2
    assert "storage backend" in (caught.value.hint or "")
