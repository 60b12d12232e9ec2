"""Settings from the environment: names, aliases, defaults, and one error for all problems."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from lambdapress_runtime import SettingsError
from lambdapress_runtime._settings import read_settings


class Settings(BaseModel):
    database_url: str
    pool_timeout: float = 5.0
    max_rows: int
    table: str = Field(alias="CUSTOMERS_TABLE")


def test_fields_come_from_their_upper_cased_names_and_aliases() -> None:
    environ = {"DATABASE_URL": "postgresql://db/app", "MAX_ROWS": "50", "CUSTOMERS_TABLE": "t"}
    settings = read_settings(Settings, environ)
    assert settings == Settings(
        database_url="postgresql://db/app", max_rows=50, CUSTOMERS_TABLE="t"
    )
    assert settings.pool_timeout == 5.0  # a default needs no variable


def test_one_error_lists_every_missing_and_invalid_variable_without_values() -> None:
    environ = {"POOL_TIMEOUT": "soon", "MAX_ROWS": "s3cr3t-not-a-number"}
    with pytest.raises(SettingsError) as caught:
        read_settings(Settings, environ)
    error = caught.value
    assert error.variables == ("DATABASE_URL", "POOL_TIMEOUT", "MAX_ROWS", "CUSTOMERS_TABLE")
    assert dict(error.problems)["DATABASE_URL"] == "not set"
    assert "valid number" in dict(error.problems)["POOL_TIMEOUT"]
    message = str(error)
    assert message.startswith("4 environment variables are missing or invalid for Settings:")
    assert "s3cr3t" not in message  # a value may be a secret


def test_a_model_that_is_not_pydantic_is_refused_clearly() -> None:
    class Plain:
        database_url: str

    with pytest.raises(TypeError, match="not a pydantic v2 model"):
        read_settings(Plain, {})


def test_the_container_reads_the_process_environment_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lambdapress_runtime import Container

    class Small(BaseModel):
        region_name: str

    container = Container()
    settings = container.settings(Small)
    monkeypatch.setenv("REGION_NAME", "eu-west-1")
    assert settings.get().region_name == "eu-west-1"
    monkeypatch.setenv("REGION_NAME", "us-east-1")
    assert settings.get().region_name == "eu-west-1"  # read at cold start, then kept
