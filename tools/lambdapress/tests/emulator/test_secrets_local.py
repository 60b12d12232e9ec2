"""Secrets locally: seeded into moto's server from the git-ignored file, read by a real worker
through lambdapress_runtime.secrets (Powertools' cache), and a rotation seen after the max age,
not before."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import lambdapress_runtime
from lambdapress.cli import main
from lambdapress.emulator import Emulator
from lambdapress.emulator._ric import wheel_platform
from lambdapress.model.application import Application
from lambdapress.model.config_resources import Parameter, Secret
from lambdapress.model.storage_backends import StageNames
from lambdapress.storage.config_values import LOCAL_VALUES, missing_values
from lambdapress.storage.events_server import EventsServer, start_events_server
from lambdapress.support.loopback import free_port

from .conftest import Repo, entry_for, write_zip

pytestmark = pytest.mark.e2e

HANDLER = """
import os

from lambdapress_runtime import secrets


def handler(event, context):
    return {
        "stripe": secrets.secret("stripe"),
        "rate": secrets.parameter("tax-rate"),
        "name": os.environ["STRIPE_SECRET_NAME"],
        "pid": os.getpid(),
    }
"""
MAX_AGE = 3
STRIPE = Secret(
    service="demo", name="stripe", secret_name="${project}/${stage}/demo/stripe", max_age=MAX_AGE
)
RATE = Parameter(service="demo", name="tax-rate", path="/${project}/${stage}/tax-rate", max_age=60)


@pytest.fixture(scope="module")
def reader_repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """The handler, lambdapress_runtime and Powertools installed flat, as `package` ships them
    (boto3 is the runtime's, as on Lambda)."""
    repo = Repo(tmp_path_factory.mktemp("secrets") / "repo")
    folder = repo.root / "build" / "reader"
    folder.mkdir(parents=True)
    (folder / "reader.py").write_text(textwrap.dedent(HANDLER).lstrip(), encoding="utf-8")
    runtime = Path(lambdapress_runtime.__file__).parent
    shutil.copytree(runtime, folder / "lambdapress_runtime", ignore=shutil.ignore_patterns("*.pyc"))
    platform_tag = wheel_platform()
    assert platform_tag is not None
    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    install = [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--target", str(folder)]
    target = ["--python-version", minor, "--python-platform", platform_tag]
    subprocess.run([*install, *target, "aws-lambda-powertools==3.*"], check=True)
    write_zip(folder, repo.root / "dist" / "demo" / "reader.zip")
    return repo


def _manifest(repo: Repo) -> Application:
    entry = entry_for(
        repo.root, repo.root / "dist" / "demo" / "reader.zip", "demo.reader", "reader.handler"
    )
    entry = entry.model_copy(update={"uses": (RATE.id, STRIPE.id), "timeout": 20})
    return Application(functions=(entry,), resources=(RATE, STRIPE))


@pytest.fixture
def events(reader_repo: Repo, tmp_path: Path) -> Iterator[EventsServer]:
    """moto's server as `lambdapress db` starts it, seeded from the repository's local file."""
    values = reader_repo.root / LOCAL_VALUES
    values.parent.mkdir(parents=True, exist_ok=True)
    values.write_text(
        '[secrets]\n"acme/local/demo/stripe" = "sk_v1"\n'
        '[parameters]\n"/acme/local/tax-rate" = "0.2"\n',
        encoding="utf-8",
    )
    names = StageNames("acme", "local")
    manifest = _manifest(reader_repo)
    with start_events_server(
        tmp_path, names, free_port(), manifest, root=reader_repo.root
    ) as server:
        yield server


def test_a_rotated_secret_reaches_a_warm_function_after_its_max_age_not_before(
    reader_repo: Repo, events: EventsServer, runtime_cache: Path
) -> None:
    assert set(events.created) == {
        "secret acme/local/demo/stripe",
        "parameter /acme/local/tax-rate",
    }
    manifest = _manifest(reader_repo)
    with Emulator(
        manifest, reader_repo.root, cache_dir=runtime_cache, events=events.endpoint
    ) as emulator:
        first = emulator.invoke("demo.reader", {})
        assert first.error is None, first.logs
        answer = json.loads(first.payload)
        assert answer["stripe"] == "sk_v1" and answer["rate"] == "0.2"
        assert answer["name"] == "acme/local/demo/stripe"
        read_at = time.monotonic()

        events.endpoint.client("secretsmanager").put_secret_value(
            SecretId="acme/local/demo/stripe", SecretString="sk_v2"
        )
        warm = json.loads(emulator.invoke("demo.reader", {}).payload)
        assert time.monotonic() - read_at < MAX_AGE, "too slow to see the cache at work"
        assert (warm["stripe"], warm["pid"]) == ("sk_v1", answer["pid"])  # cached, same worker

        time.sleep(max(0.0, MAX_AGE + 0.5 - (time.monotonic() - read_at)))
        later = json.loads(emulator.invoke("demo.reader", {}).payload)
        assert (later["stripe"], later["pid"]) == ("sk_v2", answer["pid"])  # same worker, re-read


def test_a_value_the_server_holds_is_not_overwritten_by_the_file(
    reader_repo: Repo, events: EventsServer
) -> None:
    manager = events.endpoint.client("secretsmanager")
    manager.put_secret_value(SecretId="acme/local/demo/stripe", SecretString="rotated")
    assert events.ensure(_manifest(reader_repo)) == ()
    value = manager.get_secret_value(SecretId="acme/local/demo/stripe")["SecretString"]
    assert value == "rotated"


def test_a_missing_value_is_named_with_the_line_to_add(
    reader_repo: Repo, events: EventsServer
) -> None:
    events.endpoint.client("ssm").delete_parameter(Name="/acme/local/tax-rate")
    problem = missing_values(events.endpoint, _manifest(reader_repo), {"demo"}, "acme")
    assert problem is not None
    text = str(problem)
    assert "parameter /acme/local/tax-rate ([tool.lambdapress.parameters.tax-rate] of " in text
    assert "secret acme" not in text
    assert 'add to .lambdapress/secrets.local.toml (git-ignored): [parameters] "/acme/local/' in (
        problem.hint or ""
    )
    assert missing_values(events.endpoint, _manifest(reader_repo), {"other"}, "acme") is None
    without_server = missing_values(None, _manifest(reader_repo), {"demo"}, "acme")
    assert without_server is not None and "start `nox -s db`" in (without_server.hint or "")
    assert "2 secrets or parameters" in str(without_server)


def test_serve_and_invoke_refuse_to_start_without_a_value(
    reader_repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the first request, naming each one: `invoke` without a `db`, `serve` with its own
    moto (nothing seeds it: there is no local file)."""
    repo = Repo(tmp_path / "repo")
    built = repo.root / "dist" / "demo" / "reader.zip"
    shutil.copy2(reader_repo.root / "dist" / "demo" / "reader.zip", built)
    repo.write(_manifest(repo))
    root = ["--root", str(repo.root)]

    assert main(["invoke", "demo.reader", *root]) == 1
    err = capsys.readouterr().err
    assert "2 secrets or parameters the functions read have no local value (no local server)" in err
    assert (
        "secret repo/local/demo/stripe ([tool.lambdapress.secrets.stripe] of service demo)" in err
    )
    assert (
        "fix: start `nox -s db` (it seeds them), and add to .lambdapress/secrets.local.toml" in err
    )
    assert "START RequestId" not in err

    serve = ["serve", "--no-watch", "--port", "0", "--lambda-port", "-1", *root]
    assert main(serve) == 1
    err = capsys.readouterr().err
    assert "have no local value (`lambdapress db` or serve's moto)" in err
    assert '[parameters] "/repo/local/tax-rate" = "<the value>"' in err
