"""Credentials come from the environment or keyring, and never show."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from lambdapress.errors import ConfigError
from lambdapress.indexes.config import UploadApiIndex
from lambdapress.indexes.credentials import (
    keyring_password,
    redact,
    resolve_configured,
    resolve_index,
    resolve_upload_api,
)

INDEX = UploadApiIndex.model_validate(
    {
        "name": "local",
        "upload-url": "http://127.0.0.1:9/",
        "index-url": "http://127.0.0.1:9/simple/",
    }
)


class MemoryKeyring(KeyringBackend):
    """A keyring that holds passwords in a dict (priority is required by keyring)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def test_environment_variables_named_by_the_index() -> None:
    environ = {
        "LAMBDAPRESS_INDEX_LOCAL_USERNAME": "alice",
        "LAMBDAPRESS_INDEX_LOCAL_PASSWORD": "s3cret-value",
    }
    resolved = resolve_upload_api(INDEX, environ)
    assert resolved.basic_auth() == ("alice", "s3cret-value")
    assert resolved.credentials_from == (
        "$LAMBDAPRESS_INDEX_LOCAL_USERNAME / $LAMBDAPRESS_INDEX_LOCAL_PASSWORD"
    )
    assert resolved.authorization_header() == "Basic YWxpY2U6czNjcmV0LXZhbHVl"
    shown = f"{resolved!r} {resolved} {resolved.model_dump()} {resolved.model_dump_json()}"
    assert "s3cret-value" not in shown


def test_keyring_is_asked_when_the_password_variable_is_unset() -> None:
    memory = MemoryKeyring()
    memory.set_password("http://127.0.0.1:9/", "alice", "from-keyring")
    keyring.set_keyring(memory)
    resolved = resolve_upload_api(INDEX, {"LAMBDAPRESS_INDEX_LOCAL_USERNAME": "alice"})
    assert resolved.basic_auth() == ("alice", "from-keyring")
    assert resolved.credentials_from == "keyring (http://127.0.0.1:9/, user alice)"
    assert keyring_password("http://127.0.0.1:9/", "bob") is None


def test_without_credentials_the_index_is_anonymous() -> None:
    resolved = resolve_upload_api(INDEX, {})
    assert (resolved.basic_auth(), resolved.authorization_header()) == (None, None)
    assert resolved.credentials_from == "none"
    assert "LAMBDAPRESS_INDEX_LOCAL_PASSWORD" in resolved.fix_credentials


def test_configured_username_and_custom_variable() -> None:
    index = INDEX.model_copy(update={"username": "__token__", "password_env": "MY_TOKEN"})
    resolved = resolve_index(index, {"MY_TOKEN": "tok"}, keyring_lookup=None)
    assert resolved.basic_auth() == ("__token__", "tok")


def test_resolve_index_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDAPRESS_INDEX_LOCAL_USERNAME", "carol")
    monkeypatch.setenv("LAMBDAPRESS_INDEX_LOCAL_PASSWORD", "pw")
    assert resolve_index(INDEX).basic_auth() == ("carol", "pw")


def test_the_root_pyprojects_index_is_found_by_name_and_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lambdapress.indexes.local]\nupload-url = "http://127.0.0.1:9/"\n'
        'index-url = "http://127.0.0.1:9/simple/"\n'
    )
    monkeypatch.setenv("LAMBDAPRESS_INDEX_LOCAL_USERNAME", "carol")
    monkeypatch.setenv("LAMBDAPRESS_INDEX_LOCAL_PASSWORD", "pw")
    assert resolve_configured(tmp_path, "local").basic_auth() == ("carol", "pw")
    assert resolve_configured(tmp_path, None).name == "local"  # the only one
    with pytest.raises(ConfigError, match="no index named 'nope'") as error:
        resolve_configured(tmp_path, "nope")
    assert error.value.path == tmp_path / "pyproject.toml"


def test_redact_hides_plain_url_encoded_and_base64_forms() -> None:
    secret = "p@ss/word"
    text = "p@ss/word in http://u:p%40ss%2Fword@host and cEBzcy93b3Jk"
    assert redact(text, [secret, ""]) == "**** in http://u:****@host and ****"
