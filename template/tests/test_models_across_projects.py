"""End to end: project A publishes a model library, project B builds a service on it.

Two projects rendered from the working tree, a real pypiserver on 127.0.0.1 that needs the
account for uploads *and* reads (as private indexes do), A's `lambdapress publish`, and B's
documented commands: `lambdapress new service ... --models PKG==SPEC --index NAME`, then
`lambdapress models` / `models upgrade [--accept]` and `lambdapress package`. On the first
version B's tests, ruff and mypy run directly in B's environment (quick); on the last, B's own
`.ci/run` runs every session as its CI would.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from lambdapress.publish.pypiserver import ServerPlan, start_server
from lambdapress.support.loopback import free_port

pytestmark = pytest.mark.e2e

USER = "publisher"
OFFLINE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


class PrivateIndexPlan(ServerPlan):
    """pypiserver asking for the account on uploads, listings and downloads."""

    def command(self) -> list[str]:
        return [part if part != "update" else "update,list,download" for part in super().command()]


@pytest.fixture
def private_index(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    password = secrets.token_urlsafe(12)
    plan = PrivateIndexPlan(
        port=free_port(),
        packages_dir=tmp_path / "index" / "packages",
        htpasswd=tmp_path / "index" / "htpasswd",
        username=USER,
        password=SecretStr(password),
        fallback=False,
    )
    with start_server(plan) as server:
        yield server, password


def index_table(url: str) -> str:
    return (
        f'\n[tool.lambdapress.indexes.company]\nupload-url = "{url}"\nindex-url = "{url}simple/"\n'
    )


def digests(*paths: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def models_rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()[2:]]


def test_a_service_in_one_project_builds_on_models_published_by_another(
    copier_cli: Any, sh: Any, tmp_path: Path, private_index: tuple[Any, str]
) -> None:
    server, password = private_index
    env = {
        "LAMBDAPRESS_INDEX_COMPANY_USERNAME": USER,
        "LAMBDAPRESS_INDEX_COMPANY_PASSWORD": password,
    }
    env |= {"UV_INDEX_COMPANY_USERNAME": USER, "UV_INDEX_COMPANY_PASSWORD": password}  # uv sync
    env |= OFFLINE_AWS
    outer = sh.bin("lambdapress")
    a, b = tmp_path / "billing-platform", tmp_path / "payments-platform"
    copier_cli.copy(a, {"kind": "project", "project_name": a.name}, cwd=tmp_path)
    # B as the README starts a project on a fresh machine: copier through uvx.
    start = [sh.bin("uvx"), "copier", "copy", "--trust", "--defaults", "--quiet"]
    start += ["--data", "kind=project", "--data", f"project_name={b.name}"]
    sh.run([*start, str(copier_cli.template), str(b)], tmp_path)
    for project in (a, b):
        sh.git(project, "init", "-q", "-b", "main")  # as the README says; ruff reads .gitignore
        with (project / "pyproject.toml").open("a", encoding="utf-8") as config:
            config.write(index_table(server.url))

    # A: a model library, published as 1.0.0.
    sh.run([outer, "new", "package", "billing-models", "--data", "package_version=1.0.0"], a)
    library = a / "packages" / "billing-models"
    sh.run([outer, "publish", "billing-models", "--index", "company"], a, env=env)

    # B: a service on it, without packages/billing-models.
    sh.run(
        [
            outer,
            "new",
            "service",
            "payments",
            "--models",
            "billing-models==1.0",
            "--index",
            "company",
        ],
        b,
        env=env,
    )
    assert not (b / "packages" / "billing-models").exists()
    sh.run(["uv", "sync", "--all-packages", "--group", "dev"], b, env=env)
    tool = b / ".venv" / "bin"

    def lp(*args: str, check: bool = True, extra: dict[str, str] | None = None) -> Any:
        return sh.run([str(tool / "lambdapress"), *args], b, env=env | (extra or {}), check=check)

    assert lp("--version").stdout == "lambdapress 0.4.0 (template v0.4.0)\n"  # B's pinned tool
    assert models_rows(lp("models").stdout) == [
        ["payments", "billing-models", "published", "1.0.0", "company", "1.0.0"]
    ]
    lp("package")
    sh.run([str(tool / "pytest"), "services/payments/tests", "-q", "-p", "no:cacheprovider"], b)
    sh.run([str(tool / "ruff"), "check", "."], b)
    sh.run([str(tool / "ruff"), "format", "--check", "."], b)
    sh.run([str(tool / "mypy"), "--strict", "services/payments/src"], b)
    assert_ships(b, "1.0.0")
    lock = tomllib.loads((b / "uv.lock").read_text())
    private = [p["name"] for p in lock["package"] if server.url in str(p.get("source", {}))]
    assert private == ["billing-models"]
    pyproject = (b / "services" / "payments" / "pyproject.toml").read_text()
    assert "path =" not in pyproject and "workspace = true" not in pyproject

    # Mistakes: a clear error naming the index and the fix, exit 1, no file changed.
    watched = (b / "pyproject.toml", b / "services" / "payments" / "pyproject.toml", b / "uv.lock")
    before = digests(*watched)
    wrong_name = lp(
        "models", "add", "payments", "billing-models==1.0", "--index", "nope", check=False
    )
    assert wrong_name.returncode == 1
    assert "no index named 'nope' (configured: company)" in wrong_name.stderr
    assert "fix: use one of company" in wrong_name.stderr
    missing = lp(
        "models", "add", "payments", "billing-models==9.9", "--index", "company", check=False
    )
    assert missing.returncode == 1
    assert "billing-models==9.9 is not on index 'company'" in missing.stderr
    assert "published: 1.0.0" in missing.stderr
    refused = lp(
        "models",
        "upgrade",
        "payments",
        "billing-models",
        check=False,
        extra={"LAMBDAPRESS_INDEX_COMPANY_PASSWORD": "not-the-password"},
    )
    assert refused.returncode == 1
    assert "index 'company' refused" in refused.stderr
    assert (
        "fix: export LAMBDAPRESS_INDEX_COMPANY_USERNAME and LAMBDAPRESS_INDEX_COMPANY_PASSWORD"
        in (refused.stderr)
    )
    assert password not in refused.stdout + refused.stderr
    assert digests(*watched) == before

    # A 1.x minor with only an addition: upgraded and accepted without anyone saying so.
    base = next(library.glob("src/*/base.py"))
    original = base.read_text()
    added = original.replace(
        '    updated_at: AwareDatetime = Field(description="When it last changed (UTC)")\n',
        '    updated_at: AwareDatetime = Field(description="When it last changed (UTC)")\n'
        "    note: str | None = None\n",
    )
    assert added != original
    release(sh, outer, a, env, "1.1.0", added)
    before = digests(*watched)
    dry = lp("models", "upgrade", "payments", "billing-models", "--dry-run")
    assert "version: 1.0.0 -> 1.1.0" in dry.stdout
    assert "billing-models 1.0.0 -> 1.1.0: compatible" in dry.stdout
    assert dry.stdout.endswith("dry run: nothing was written\n")
    assert digests(*watched) == before
    lp("models", "upgrade", "payments", "billing-models")
    assert models_rows(lp("models").stdout) == [
        ["payments", "billing-models", "published", "1.1.0", "company", "1.1.0"]
    ]
    lp("package")
    assert_ships(b, "1.1.0")

    # 2.0.0 removes that field: the upgrade is written, but package refuses until accepted.
    release(sh, outer, a, env, "2.0.0", original)
    upgrade = lp("models", "upgrade", "payments", "billing-models")
    assert "billing-models 1.1.0 -> 2.0.0: breaking" in upgrade.stdout
    assert models_rows(lp("models").stdout) == [
        ["payments", "billing-models", "published", "2.0.0", "company", "1.1.0", "(package",
         "checks", "2.0.0)"]
    ]  # fmt: skip
    refusal = lp("package", check=False)
    assert refusal.returncode == 1
    assert "billing-models 1.1.0 -> 2.0.0: breaking" in refusal.stderr
    assert "Entity: field removed `note`" in refusal.stderr
    assert "lambdapress models upgrade payments billing-models --accept" in refusal.stderr
    assert_ships(b, "1.1.0")  # dist/ untouched by the refused build
    lp("models", "upgrade", "payments", "billing-models", "--accept")
    assert (
        'accept_models = { billing-models = "2.0.0" }'
        in (b / "services" / "payments" / "pyproject.toml").read_text()
    )
    assert models_rows(lp("models").stdout) == [
        ["payments", "billing-models", "published", "2.0.0", "company", "2.0.0"]
    ]
    # B's own CI (`.ci/run`: `nox -s package`, then lint, typecheck and tests, every install
    # `--locked`), with lambdapress's variables only: the noxfile hands them to `uv sync` as
    # uv's, and the bundler fetches the private wheel with them.
    only_lambdapress = {k: v for k, v in env.items() if not k.startswith("UV_INDEX_")}
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    shutil.rmtree(b / "dist")
    ci = sh.run([str(b / ".ci" / "run")], b, env=only_lambdapress | {"CI": "true", "PATH": path})
    for session in ("package", "lint", "typecheck", "tests"):
        assert f"Session {session} was successful" in ci.stdout + ci.stderr
    assert_ships(b, "2.0.0")

    # The READMEs' commands for a new service on a published library, run as they are written
    # (the root README's `nox -s new` line, and the project README's two sentences).
    shown = _readme_commands()
    for command in shown:
        sh.run(["bash", "-c", command], b, env=only_lambdapress | {"PATH": path})
    answers = yaml.safe_load((b / "services" / "invoices" / ".copier-answers.yml").read_text())
    assert (answers["models_source"], answers["models_spec"]) == ("index", "==2.0")
    assert [
        "invoices", "billing-models", "published", "2.0.0", "company", "2.0.0"
    ] in models_rows(lp("models").stdout)  # fmt: skip

    # The index goes away: the same clear error, and again nothing changes.
    before = digests(*watched)
    server.stop()
    down = lp("models", "upgrade", "payments", "billing-models", check=False)
    assert down.returncode == 1
    assert "cannot reach index 'company'" in down.stderr
    assert "fix: start it" in down.stderr
    assert digests(*watched) == before


def release(sh: Any, outer: str, a: Path, env: dict[str, str], version: str, source: str) -> None:
    """A publishes a new version of billing-models with `source` as its base module."""
    library = a / "packages" / "billing-models"
    next(library.glob("src/*/base.py")).write_text(source)
    config = library / "pyproject.toml"
    text = config.read_text()
    current = tomllib.loads(text)["project"]["version"]
    config.write_text(text.replace(f'version = "{current}"', f'version = "{version}"', 1))
    sh.run([outer, "publish", "billing-models", "--index", "company"], a, env=env)


def assert_ships(b: Path, version: str) -> None:
    """Every payments zip holds the published wheel's modules and its METADATA."""
    zips = sorted((b / "dist" / "payments").glob("*.zip"))
    assert zips
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            metadata = f"billing_models-{version}.dist-info/METADATA"
            assert metadata in names, path
            assert any(n.startswith("billing_models/__init__.py") for n in names), path
            assert f"Version: {version}" in archive.read(metadata).decode()


def _readme_commands() -> list[str]:
    """The `nox -s new`/`models add` commands on an index that both READMEs show, as written."""
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    new = next(
        line
        for line in readme.splitlines()
        if line.startswith("python3 -m nox -s new") and "--index" in line
    )
    project = " ".join((root / "template" / "project" / "README.md.jinja").read_text().split())
    shown = re.findall(r"`(python3 -m nox -s (?:new|models) -- [^`]*--index company)`", project)
    assert shown and shown[0] == new, "the project README shows the root README's command"
    return shown
