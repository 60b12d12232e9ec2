"""Secrets, parameters and the database URL read through Powertools' cache, from moto's server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest

from lambdapress_runtime import SettingsError, secrets


@pytest.fixture
def aws(moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server as Secrets Manager and SSM's endpoint; the runtime's caches empty."""
    host, port = moto_server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", url)
    secrets.clear_cache()  # the clients too: made for another test's server
    yield url
    secrets.clear_cache()


def _client(url: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1")  # type: ignore[call-overload]


def test_a_secret_is_reused_until_its_max_age_then_read_again(aws: str) -> None:
    manager = _client(aws, "secretsmanager")
    manager.create_secret(Name="acme/dev/payments/stripe", SecretString="v1")
    env = {"STRIPE_SECRET_NAME": "acme/dev/payments/stripe", "STRIPE_SECRET_MAX_AGE": "2"}
    assert secrets.secret("stripe", environ=env) == "v1"
    started = time.monotonic()
    manager.put_secret_value(SecretId="acme/dev/payments/stripe", SecretString="v2")
    assert secrets.secret("stripe", environ=env) == "v1"  # cached: not read again
    assert time.monotonic() - started < 2
    time.sleep(2.1)
    assert secrets.secret("stripe", environ=env) == "v2"


def test_refresh_reads_at_once_and_refills_the_cache(aws: str) -> None:
    manager = _client(aws, "secretsmanager")
    manager.create_secret(Name="db", SecretString="postgresql://app:old@h/db")
    env = {"DATABASE_SECRET_NAME": "db", "DATABASE_SECRET_MAX_AGE": "300"}
    assert secrets.database_url(environ=env) == "postgresql://app:old@h/db"
    manager.put_secret_value(SecretId="db", SecretString="postgresql://app:new@h/db")
    assert secrets.database_url(environ=env) == "postgresql://app:old@h/db"
    assert secrets.database_url(refresh=True, environ=env) == "postgresql://app:new@h/db"
    assert secrets.database_url(environ=env) == "postgresql://app:new@h/db"


def test_clear_cache_forgets_values_and_clients(aws: str) -> None:
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    manager = _client(aws, "secretsmanager")
    manager.create_secret(Name="s", SecretString="one")
    env = {"S_SECRET_NAME": "s"}
    assert secrets.secret("s", environ=env) == "one"
    assert "secrets" in DEFAULT_PROVIDERS
    manager.put_secret_value(SecretId="s", SecretString="two")
    secrets.clear_cache()
    assert DEFAULT_PROVIDERS == {}
    assert secrets.secret("s", environ=env) == "two"


def test_max_age_zero_reads_every_time(aws: str) -> None:
    manager = _client(aws, "secretsmanager")
    manager.create_secret(Name="s", SecretString="one")
    env = {"TOKEN_SECRET_NAME": "s", "TOKEN_SECRET_MAX_AGE": "0"}
    assert secrets.secret("token", environ=env) == "one"
    manager.put_secret_value(SecretId="s", SecretString="two")
    assert secrets.secret("token", environ=env) == "two"


def test_a_parameter_and_a_secure_string_are_read_decrypted(aws: str) -> None:
    ssm = _client(aws, "ssm")
    ssm.put_parameter(Name="/acme/dev/orders/tax-rate", Value="0.2", Type="String")
    ssm.put_parameter(Name="/acme/dev/orders/key", Value="hidden", Type="SecureString")
    env = {
        "TAX_RATE_PARAMETER_NAME": "/acme/dev/orders/tax-rate",
        "API_KEY_PARAMETER_NAME": "/acme/dev/orders/key",
    }
    assert secrets.parameter("tax-rate", environ=env) == "0.2"
    assert secrets.parameter("api-key", environ=env) == "hidden"


def test_an_undeclared_name_says_which_variable_and_the_fix() -> None:
    with pytest.raises(SettingsError) as error:
        secrets.secret("stripe", environ={})
    assert error.value.variables == ("STRIPE_SECRET_NAME",)
    assert "declare [tool.lambdapress.secrets.stripe]" in str(error.value)
    with pytest.raises(SettingsError) as wrong_age:
        secrets.secret("s", environ={"S_SECRET_NAME": "s", "S_SECRET_MAX_AGE": "soon"})
    assert "'soon' is not a whole number of seconds" in str(wrong_age.value)


def test_the_database_url_comes_from_its_secret_unless_database_url_is_set(aws: str) -> None:
    manager = _client(aws, "secretsmanager")
    url = "postgresql://app:pw1@db.example:5432/orders"
    manager.create_secret(Name="acme/dev/orders/database-url", SecretString=url)
    env = {"DATABASE_SECRET_NAME": "acme/dev/orders/database-url"}
    assert secrets.database_url(environ=env) == url
    local = "postgresql://lambdapress@127.0.0.1:5432/orders"
    assert secrets.database_url(environ={**env, "DATABASE_URL": local}) == local
    with pytest.raises(SettingsError, match="DATABASE_SECRET_NAME"):
        secrets.database_url(environ={})


def test_through_an_rds_proxy_the_password_is_an_iam_token_and_tls_is_required(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = _client(aws, "secretsmanager")
    url = "postgresql://app:pw1@db.example:6543/orders?application_name=orders&sslmode=prefer"
    manager.create_secret(Name="db", SecretString=url)
    proxy = "acme-prod.proxy-abc.eu-west-1.rds.amazonaws.com"
    env = {"DATABASE_SECRET_NAME": "db", "DATABASE_PROXY_HOST": proxy, "AWS_REGION": "eu-west-1"}
    connect = urlsplit(secrets.database_url(environ=env))
    assert (connect.hostname, connect.port, connect.username) == (proxy, 6543, "app")
    assert connect.path == "/orders"
    assert parse_qs(connect.query) == {"application_name": ["orders"], "sslmode": ["require"]}
    token = unquote(connect.password or "")
    # botocore signs it offline with the (fake) credentials: a presigned `connect` request.
    assert token.startswith(f"{proxy}:6543/?Action=connect&DBUser=app&")
    assert "X-Amz-Signature=" in token and "X-Amz-Expires=900" in token
    assert "eu-west-1" in token


def test_a_token_is_reused_for_ten_minutes_then_signed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    tokens = secrets._Tokens(clock=lambda: now[0])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    first = tokens.token("proxy", 5432, "app", "us-east-1")
    now[0] += secrets.TOKEN_REUSE_SECONDS - 1
    time.sleep(1.1)  # a new signature would carry a later X-Amz-Date
    assert tokens.token("proxy", 5432, "app", "us-east-1") == first
    now[0] += 2
    assert tokens.token("proxy", 5432, "app", "us-east-1") != first
    assert tokens.token("proxy", 5432, "other", "us-east-1") != first


def test_a_snapstart_restore_forgets_values_and_the_clients_of_the_snapshot(aws: str) -> None:
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    from lambdapress_runtime._snapstart import refresh_process_state

    manager = _client(aws, "secretsmanager")
    manager.create_secret(Name="restored", SecretString="before")
    env = {"RESTORED_SECRET_NAME": "restored", "RESTORED_SECRET_MAX_AGE": "300"}
    assert secrets.secret("restored", environ=env) == "before"  # read before the snapshot
    manager.put_secret_value(SecretId="restored", SecretString="after")
    assert "secrets" in refresh_process_state()
    assert DEFAULT_PROVIDERS == {}  # its client signed with the snapshot's credentials
    assert secrets.secret("restored", environ=env) == "after"
