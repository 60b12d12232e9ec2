"""The runtime's RDS Proxy path against a real PostgreSQL: the URL it builds (the proxy's host,
the token as the password, TLS required) connects to a server that accepts only that password,
only over TLS. The token is a fake one (a real IAM token is for RDS's own authentication); what
is tested is everything the runtime does with it."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lambdapress.storage.postgres import (
    RunAs,
    find_binaries,
    prepare_data_folder,
    server_user,
    start_postgres,
)
from lambdapress.support.loopback import LOOPBACK, free_port
from lambdapress_runtime.secrets import through_proxy

TOKEN = "proxy.example:5432/?Action=connect&DBUser=app&X-Amz-Signature=0a1b+2c/3d=="


def _self_signed(data: Path, user: RunAs) -> None:
    """`server.crt` and `server.key` in the data folder, the server user's, the key private."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "proxy.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    files = {
        "server.crt": certificate.public_bytes(serialization.Encoding.PEM),
        "server.key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    }
    for file_name, content in files.items():
        path = data / file_name
        path.write_bytes(content)
        path.chmod(0o600)
        if user.uid != os.geteuid():
            os.chown(path, user.uid, user.gid)


def test_through_a_proxy_the_token_is_the_password_and_tls_is_required(
    postgres_reachable_tmp_path: Path,
) -> None:
    data = postgres_reachable_tmp_path / "data"
    user = server_user()
    prepare_data_folder(data, find_binaries(), user)
    _self_signed(data, user)
    # The superuser as `db` has it; `app` only with its password, only over TLS.
    (data / "pg_hba.conf").write_text(
        f"host all lambdapress {LOOPBACK}/32 trust\nhostssl all app {LOOPBACK}/32 scram-sha-256\n",
        encoding="utf-8",
    )
    tls = {"ssl": "on", "ssl_cert_file": "server.crt", "ssl_key_file": "server.key"}
    with start_postgres(data, free_port(), settings=tls) as server:
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(f"CREATE ROLE app LOGIN PASSWORD '{TOKEN}'")
        port = server.port
        from_secret = f"postgresql://app:the-secrets-password@db.internal:{port}/postgres"
        signed: list[tuple[str, int, str]] = []

        def sign(host: str, to_port: int, as_user: str) -> str:
            signed.append((host, to_port, as_user))
            return TOKEN

        url = through_proxy(f"{from_secret}?sslmode=disable", LOOPBACK, sign)
        assert signed == [(LOOPBACK, port, "app")]
        assert urlsplit(url).hostname == LOOPBACK and "sslmode=require" in url
        with psycopg.connect(url) as connection:
            row = connection.execute(
                "SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            ).fetchone()
        assert row == ("app", True)

        direct = from_secret.replace("db.internal", LOOPBACK)  # the secret's own password
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(direct, connect_timeout=5).close()
        without_tls = url.replace("sslmode=require", "sslmode=disable")
        with pytest.raises(psycopg.OperationalError, match=r"no pg_hba\.conf entry"):
            psycopg.connect(without_tls, connect_timeout=5).close()
