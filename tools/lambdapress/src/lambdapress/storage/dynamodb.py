"""DynamoDB on 127.0.0.1: moto's server, and the tables services declare, created in it.

moto keeps its data in memory: a restart of `lambdapress db` starts with empty tables (the
PostgreSQL data, by contrast, stays in `.cache/`). Functions reach it through boto3's standard
`AWS_ENDPOINT_URL_DYNAMODB` variable, with fake credentials: the same code runs unchanged on
Lambda, where the variable is absent and the real endpoint is used.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from lambdapress.errors import StorageError
from lambdapress.model.resources import table_definition
from lambdapress.support.closing import ClosesOnExit
from lambdapress.support.lifetime import bound_popen, stop_bound
from lambdapress.support.loopback import LOCAL_REGION, LOOPBACK, NO_METADATA_SERVICE

REGION = LOCAL_REGION
# moto accepts any credentials; these keep boto3 away from real ones and the metadata service.
FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
FAKE_ENVIRONMENT = {
    **{name.upper(): value for name, value in FAKE_CREDENTIALS.items()},
    "AWS_DEFAULT_REGION": REGION,
    **NO_METADATA_SERVICE,
}
"""The same as the variables boto3 reads (a test's, a child process's): no real credentials,
no profile's region, no metadata service."""


class KeySchema(Protocol):
    """A table's string key attributes (the model's `DynamoDBTable` and its settings have them)."""

    @property
    def partition_key(self) -> str:
        """The HASH key's attribute."""
        ...

    @property
    def sort_key(self) -> str | None:
        """The RANGE key's attribute, if any."""
        ...


class MotoServer(ClosesOnExit):
    """moto's server in a child process of ours; `stop()` or leaving `with` ends it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    @property
    def endpoint(self) -> str:
        """The URL for boto3's `endpoint_url` / `AWS_ENDPOINT_URL_DYNAMODB`."""
        return f"http://{LOOPBACK}:{self.port}"

    def close(self) -> None:
        """Stop the server (the `with` block's exit does it too)."""
        self.stop()

    def stop(self) -> None:
        """Terminate moto and wait for it."""
        stop_bound(self.process)


def start_moto(port: int, log: Path, *, timeout: float = 30.0) -> MotoServer:
    """Start `python -m moto.server` on 127.0.0.1:`port` and wait until it answers."""
    try:
        import moto.server  # noqa: F401  (only checks that it is installed)
    except ImportError:
        raise StorageError(
            "moto's server (the local DynamoDB) is not installed in this environment",
            hint="add it to the development dependencies: uv add --group dev 'moto[server]'",
        ) from None
    command = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        process = bound_popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = MotoServer(process, port, log)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            server.stop()
            raise StorageError(
                f"moto's server exited at start (code {process.returncode})",
                path=log,
                hint=f"is port {port} taken? pass another --dynamodb-port; read the log",
            )
        try:
            # An http:// URL on 127.0.0.1 that we built: no other scheme can reach urlopen.
            probe = f"{server.endpoint}/moto-api/data.json"
            with urllib.request.urlopen(probe, timeout=2):  # noqa: S310
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                server.stop()
                raise StorageError(
                    f"moto's server did not answer within {timeout:.0f} s",
                    path=log,
                    hint="read its log",
                ) from None
            time.sleep(0.1)


def dynamodb_client(endpoint: str, region: str = REGION) -> Any:
    """A boto3 DynamoDB client for the local endpoint, with fake credentials."""
    import boto3

    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
        aws_session_token=FAKE_CREDENTIALS["aws_session_token"],
    )


def create_tables(
    endpoint: str, tables: Mapping[str, KeySchema], region: str = REGION
) -> tuple[str, ...]:
    """Create each table (physical name -> key schema) that does not exist; return the new ones.

    Keys and billing are the deploy template's (`model.resources.table_definition`); a table
    with a `stream` view (its settings' or the model's) gets its stream.
    """
    client = dynamodb_client(endpoint, region)
    existing = set(client.list_tables().get("TableNames", []))
    created: list[str] = []
    for name, table in sorted(tables.items()):
        if name in existing:
            continue
        stream = getattr(table, "stream", None)
        # The stream is created with the table, as the deployed table's StreamSpecification.
        spec = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": stream}}
        client.create_table(
            TableName=name,
            **table_definition(table.partition_key, table.sort_key),
            **(spec if stream else {}),
        )
        created.append(name)
    return tuple(created)
