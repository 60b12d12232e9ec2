"""Thin sessions over the lambdapress tool: each one installs the workspace, then runs one thing.

A project rendered from the template gets its own noxfile (template/project/noxfile.py): this
one's sessions and helpers, without what only the template repository needs (its `template`
session, the tool's and its runtime's own tests and layers); a test of the template keeps the
parts they share equal.
"""

from __future__ import annotations

import importlib.util
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "typecheck", "tests"]

ROOT = Path(__file__).parent
IS_TEMPLATE_REPO = (ROOT / "copier.yml").is_file()

# Nothing a session runs may reach AWS or the instance metadata service.
OFFLINE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


# Long-running commands stop when nox does: nox forwards Ctrl-C but dies on SIGTERM without
# telling its child, which would leave the server (and pypiserver) running.
STOP_WITH_NOX = {"LAMBDAPRESS_STOP_WITH_PARENT": str(os.getpid())}


def sync_workspace(session: nox.Session, *, only_dev: bool = False, locked: bool = True) -> None:
    """Install every workspace member and the dev tools from the one lock file.

    In CI the lock must already be up to date (`--locked`); on a developer's machine uv
    updates it, so a new service or package is picked up without a separate step. uv is told
    the session's environment both ways (`UV_PROJECT_ENVIRONMENT`, `VIRTUAL_ENV`): when the two
    differ it warns that `VIRTUAL_ENV` "does not match the project environment path".
    """
    if only_dev:
        command = ["uv", "sync", "--only-group", "dev"]
    else:
        command = ["uv", "sync", "--all-packages", "--group", "dev"]
    if locked and os.environ.get("CI") and (ROOT / "uv.lock").is_file():
        command.append("--locked")
    session.run_install(
        *command,
        env={
            "UV_PROJECT_ENVIRONMENT": session.virtualenv.location,
            "VIRTUAL_ENV": session.virtualenv.location,
            **index_credentials(),
        },
        external=True,
    )


def index_credentials() -> dict[str, str]:
    """uv's credentials for each `[[tool.uv.index]]` of the root pyproject (the private indexes
    published model libraries come from), taken from lambdapress's own variables
    `LAMBDAPRESS_INDEX_<NAME>_USERNAME/PASSWORD` when uv's `UV_INDEX_<NAME>_...` are not set,
    so one pair of variables serves publishing, locking and installing. Never printed."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    indexes = data.get("tool", {}).get("uv", {}).get("index", [])
    return uv_credentials([str(index.get("name", "")) for index in indexes], os.environ)


# The rule itself is lambdapress's (`lambdapress.indexes.uv_credentials`), read from its source
# here: a session needs the credentials to install the tool in the first place.
CREDENTIAL_RULE = ROOT / "tools/lambdapress/src/lambdapress/indexes/uv_credentials.py"


def uv_credentials(indexes: list[str], environ: Mapping[str, str]) -> dict[str, str]:
    """uv's variables for `indexes`, from lambdapress's in `environ`: the tool's own rule."""
    if not CREDENTIAL_RULE.is_file():
        raise FileNotFoundError(
            f"{CREDENTIAL_RULE} is missing: this noxfile reads the index-credential rule from "
            "lambdapress's source; restore it (git checkout -- tools/lambdapress)"
        )
    spec = importlib.util.spec_from_file_location("lambdapress_uv_credentials", CREDENTIAL_RULE)
    assert spec is not None and spec.loader is not None
    rule = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rule)
    credentials: dict[str, str] = rule.uv_credentials(indexes, environ)
    return credentials


def members(kind: str) -> list[str]:
    """The workspace members of one kind (`packages`, `services`, `tools`) that have tests."""
    return sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(f"{kind}/*/tests") if p.is_dir())


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting, over the tool, the packages, the services and the noxfile;
    import-linter: the tool's layers (tools/lambdapress/README.md) and its runtime library's
    (contracts in pyproject.toml)."""
    sync_workspace(session, only_dev=True)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # Static analysis of the source trees: neither package need be installed in this session.
    sources = [ROOT / "tools" / name / "src" for name in ("lambdapress", "lambdapress-runtime")]
    session.run("lint-imports", env={"PYTHONPATH": os.pathsep.join(map(str, sources))})


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the tool, its runtime and the source of every package and service."""
    sync_workspace(session)
    sources = ["tools/lambdapress/src", "tools/lambdapress-runtime/src"]
    sources += sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("packages/*/src"))
    sources += sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("services/*/src"))
    session.run("mypy", "--strict", *sources)


@nox.session
def tests(session: nox.Session) -> None:
    """The tool's and its runtime's tests, every package's and service's (and the template's, here).

    `nox -s tests -- -m "not e2e"` is the quick run; CI runs everything.
    """
    sync_workspace(session)
    paths = ["tools/lambdapress/tests", "tools/lambdapress-runtime/tests"]
    paths += [*members("packages"), *members("services")]
    if IS_TEMPLATE_REPO:
        paths.append("template/tests")
    # The quick tests on two workers, a test file each at a time (pytest-xdist): they start
    # their servers on port 0 in their own folders, so two files never share one. The
    # end-to-end tests then run alone, in their order, as they always did: they time real
    # servers (delivery loops, PostgreSQL restarts under load), and beside another worker two
    # of them failed once each. Arguments (`-- -m "not e2e"`) make it one run on two workers.
    workers = ["-n", "2", "--dist", "loadfile"]
    if session.posargs:
        session.run("pytest", *workers, *paths, *session.posargs, env=OFFLINE_AWS)
        return
    session.run("pytest", *workers, "-m", "not e2e", *paths, env=OFFLINE_AWS)
    session.run("pytest", "-m", "e2e", *paths, env=OFFLINE_AWS)


@nox.session(default=False)
def package(session: nox.Session) -> None:
    """One minimal, reproducible zip per handler in dist/, and dist/manifest.json.

    `nox -s package -- orders` builds one service; `-- --function orders.get_order` one function.
    """
    sync_workspace(session)
    session.run("lambdapress", "package", *session.posargs, env=OFFLINE_AWS)


@nox.session(default=False)
def serve(session: nox.Session) -> None:
    """`nox -s serve [-- --port 3000]`: every routed function behind a local API Gateway HTTP
    API (payload 2.0) and the Lambda Invoke API on 127.0.0.1, rebuilt as sources change."""
    sync_workspace(session)
    session.run("lambdapress", "package", env=OFFLINE_AWS)
    session.run("lambdapress", "serve", *session.posargs, env={**OFFLINE_AWS, **STOP_WITH_NOX})


@nox.session(default=False)
def invoke(session: nox.Session) -> None:
    """`nox -s invoke -- orders.get_order --http GET /orders/42` (or `--event event.json`)."""
    sync_workspace(session)
    session.run("lambdapress", "package", env=OFFLINE_AWS)
    session.run("lambdapress", "invoke", *session.posargs, env=OFFLINE_AWS)


@nox.session(default=False)
def db(session: nox.Session) -> None:
    """PostgreSQL and moto's DynamoDB on 127.0.0.1 for the services' [tool.lambdapress.storage],
    databases migrated and tables created, until Ctrl-C; serve and invoke find them. `nox -s db
    -- --migrate` applies new migrations to the running servers."""
    sync_workspace(session)
    session.run("lambdapress", "db", *session.posargs, env={**OFFLINE_AWS, **STOP_WITH_NOX})


@nox.session(default=False)
def index(session: nox.Session) -> None:
    """A local package index on 127.0.0.1 until Ctrl-C: `nox -s index [-- --port 8080]`."""
    sync_workspace(session)
    session.run("lambdapress", "index", "serve", *session.posargs, env=STOP_WITH_NOX)


@nox.session(default=False)
def publish(session: nox.Session) -> None:
    """`nox -s publish -- acme-models [--index NAME] [--dry-run] [--tag]`: build, check, upload.

    Not offline: publishing to AWS CodeArtifact needs the caller's real AWS credentials.
    """
    sync_workspace(session)
    session.run("lambdapress", "publish", *session.posargs)


@nox.session(default=False)
def models(session: nox.Session) -> None:
    """`nox -s models [-- add SERVICE PKG==SPEC --index NAME | upgrade SERVICE PKG [--accept]]`:
    each service's model libraries and where they come from; add or upgrade one.

    Not offline: a CodeArtifact index needs the caller's real AWS credentials.
    """
    sync_workspace(session, locked=False)  # adding a published library is what changes the lock
    session.run("lambdapress", "models", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Zip sizes, rebuild times and cold starts, each as a ratio to a baseline of the same run;
    build times of N generated handlers against N, and against `sam build` on the same workload.

    `nox -s bench -- --sizes 10,100,500 --sam-sizes 10,40` (the defaults). Not offline: the
    workload's wheels and the pinned aws-sam-cli come from the package index the first time
    (`-- --sam none` leaves SAM out; a SAM that cannot be installed or run is reported and
    its ratios left out, the rest of the run goes on).
    """
    sync_workspace(session)
    session.run("lambdapress", "bench", *session.posargs, env=OFFLINE_AWS)


@nox.session(default=False)
def deploy(session: nox.Session) -> None:
    """`nox -s deploy -- --stage dev [--plan] [--yes]`: build, upload the zips the bucket lacks,
    and apply the stage's CloudFormation change set after showing it (`--yes` in CI).

    Not offline: it needs the caller's real AWS credentials and region. `lambdapress sync` and
    `lambdapress destroy` (README, "Deploy") run the same way, with `uv run`.
    """
    sync_workspace(session)
    session.run("lambdapress", "deploy", *session.posargs)


@nox.session(default=False)
def new(session: nox.Session) -> None:
    """`nox -s new -- service payments` or `-- package billing-models`: copier copy, from the
    template source and version recorded in this project's answers file. A service on a model
    library another project publishes: `-- service payments --models billing-models==1.2
    --index company`."""
    if not session.posargs:
        session.error("say what to create: nox -s new -- service NAME | package NAME")
    sync_workspace(session, locked=False)  # adding a member is what changes the lock
    session.run("lambdapress", "new", *session.posargs)
    # The new member in uv.lock now, so what `new` made can be committed as CI will see it.
    session.run("uv", "lock", env=index_credentials(), external=True)


if IS_TEMPLATE_REPO:

    @nox.session(default=False)
    def template(session: nox.Session) -> None:
        """Render every kind as a user would, run what it renders, then prove `copier update`
        and migrations on a new template version."""
        sync_workspace(session)
        session.run("pytest", "template/tests", "-m", "e2e", *session.posargs, env=OFFLINE_AWS)
