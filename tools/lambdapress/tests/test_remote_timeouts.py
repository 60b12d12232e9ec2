"""Every AWS client lambdapress makes has connect and read timeouts and bounded retries.

An endpoint that accepts connections and never answers must fail the command with the
"cannot reach" fix, not hold it for botocore's 60 s timeouts times many attempts.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
from botocore.config import Config

from lambdapress.deploy import _aws_session
from lambdapress.deploy._secret_values import Secrets
from lambdapress.deploy.aws import Aws
from lambdapress.errors import DeployError, PackageIndexError
from lambdapress.indexes import _codeartifact
from lambdapress.indexes.config import CodeArtifactIndex

WITHIN = 20.0
"""Seconds: a bound on waiting, not a measurement."""


def never_answers(connection: socket.socket, head: bytes, stopping: threading.Event) -> None:
    stopping.wait()


def bounded(config: Any, connect: float, read: float) -> None:
    assert 0 < config.connect_timeout <= connect
    assert 0 < config.read_timeout <= read
    assert 1 <= config.retries["total_max_attempts"] <= 5


def test_deploys_clients_have_timeouts_and_bounded_retries() -> None:
    aws = Aws(Secrets())
    for client in (aws._s3, aws._cfn, aws._lambda):
        bounded(client.meta.config, 10, 60)


def test_codeartifacts_client_has_timeouts_and_bounded_retries() -> None:
    index = CodeArtifactIndex.model_validate(
        {
            "name": "company",
            "kind": "codeartifact",
            "domain": "acme",
            "domain-owner": "123456789012",
            "repository": "python",
            "region": "eu-west-1",
        }
    )
    bounded(_codeartifact.codeartifact_client(index).meta.config, 10, 60)


def test_a_cloudformation_endpoint_that_never_answers_is_a_deploy_error(
    scripted_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = scripted_server(never_answers)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    short = Config(connect_timeout=0.5, read_timeout=0.5, retries={"total_max_attempts": 1})
    monkeypatch.setattr(_aws_session, "CLIENT_CONFIG", short)
    started = time.monotonic()

    with pytest.raises(DeployError, match="cannot reach AWS"):
        Aws(Secrets()).stack("shop-dev")

    assert time.monotonic() - started < WITHIN
    assert server.heads  # it was asked, and not waited for


def test_a_codeartifact_endpoint_that_never_answers_is_an_index_error(
    scripted_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = scripted_server(never_answers)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setattr(_codeartifact, "READ_TIMEOUT", 0.5)
    index = CodeArtifactIndex.model_validate(
        {
            "name": "company",
            "kind": "codeartifact",
            "domain": "acme",
            "domain-owner": "123456789012",
            "repository": "python",
            "region": "eu-west-1",
        }
    )
    started = time.monotonic()

    with pytest.raises(PackageIndexError, match="cannot reach CodeArtifact"):
        _codeartifact.resolve_codeartifact(index, _codeartifact.codeartifact_client(index))

    assert time.monotonic() - started < WITHIN


def answers_html(connection: socket.socket, head: bytes, stopping: threading.Event) -> None:
    body = b"<html><body>Sign in to the proxy</body></html>"
    connection.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + body
    )


def test_an_endpoint_that_answers_garbage_is_a_deploy_error_not_a_crash(
    scripted_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = scripted_server(answers_html)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)

    with pytest.raises(DeployError, match="the answer is not one AWS sends") as caught:
        Aws(Secrets()).stack("shop-dev")

    assert "AWS_ENDPOINT_URL" in str(caught.value.hint)
