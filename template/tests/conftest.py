"""Fixtures that treat the template as a user does: a tagged git repository and the copier CLI.

The working tree (committed or not) is snapshotted into a fresh repository and tagged, so the
tests exercise exactly what is on disk, and copier records a commit that really exists.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# The template version the working tree is: the newest section of CHANGELOG.md (released or
# not; this repository has no tags, so the tests tag their snapshots with it).
CURRENT_VERSION = "v0.4.0"
# The template's releases by commit (this repository has no tags: README.md, "Updating and
# versions"); tests tag them in temporary clones.
RELEASES = {
    "v0.1.0": "fcaf3981a5e9eeee6c26dd1b1eb5c0d653e4f7a4",
    "v0.2.0": "1f932e24845f21145c1027e13e7e68c15d04f6d6",
    "v0.3.0": "804e0e0",
}
TEMPLATE_PATHS = (
    "copier.yml",
    "template",
    "tools",
    "noxfile.py",
    "pyproject.toml",
    ".gitignore",
    ".ci",
)
# A nested nox or uv run is a user's machine, not this CI run nor this venv.
NESTED_ENV_VARIABLES = {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "CI"}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "lambdapress tests",
    "GIT_AUTHOR_EMAIL": "tests@lambdapress.invalid",
    "GIT_COMMITTER_NAME": "lambdapress tests",
    "GIT_COMMITTER_EMAIL": "tests@lambdapress.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def bin_path(name: str) -> str:
    """A console script of the test environment (copier, ruff, mypy, nox...)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed in the test environment")
    return found


def run(
    command: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run a command, and on failure show what it printed (pytest hides it otherwise).

    The variables of the environment the tests run in (an outer nox or uv venv) are dropped,
    so a nested `nox` or `uv` builds its own environment as it would on a user's machine.
    """
    inherited = {k: v for k, v in os.environ.items() if k not in NESTED_ENV_VARIABLES}
    full_env = {**inherited, **GIT_ENV, **(env or {})}
    result = subprocess.run(
        command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited {result.returncode} in {cwd}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def git(cwd: Path, *args: str) -> str:
    return run(["git", *args], cwd).stdout.strip()


def tracked_files(root: Path, paths: Sequence[str]) -> list[str]:
    """Files git would commit under `paths`: tracked ones and new ones that are not ignored."""
    out = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", *paths], root)
    return sorted({f for f in out.stdout.split("\0") if f and (root / f).exists()})


def snapshot_template(destination: Path, tag: str = CURRENT_VERSION) -> Path:
    """Copy the template part of the working tree into a new git repository, tagged `tag`."""
    destination.mkdir(parents=True)
    for relative in tracked_files(REPO_ROOT, TEMPLATE_PATHS):
        source, target = REPO_ROOT / relative, destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(source.readlink())
        else:
            shutil.copy2(source, target)
    git(destination, "init", "-q", "-b", "main")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "template snapshot")
    git(destination, "tag", tag)
    return destination


@dataclass(frozen=True)
class Copier:
    """The real copier CLI, pointed at one template repository."""

    template: Path

    def copy(
        self,
        destination: Path,
        data: Mapping[str, str],
        cwd: Path,
        check: bool = True,
        extra: Sequence[str] = (),
    ) -> subprocess.CompletedProcess[str]:
        args = [bin_path("copier"), "copy", "--trust", "--defaults", "--quiet", *extra]
        for key, value in data.items():
            args += ["--data", f"{key}={value}"]
        return run([*args, str(self.template), str(destination)], cwd, check=check)

    def update(self, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [bin_path("copier"), "update", "--trust", "--defaults", "--quiet"]
        return run(command, cwd, check=check)


class Shell:
    """Commands as a user types them; handed to tests as the `sh` fixture."""

    run = staticmethod(run)
    git = staticmethod(git)
    bin = staticmethod(bin_path)


@pytest.fixture(scope="session", autouse=True)
def user_wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user-level wheel cache of the session, and of every project it renders and builds.

    `LAMBDAPRESS_CACHE_DIR` points at a folder of the session: never the machine's own
    `~/.cache/lambdapress`.
    """
    folder = tmp_path_factory.mktemp("user-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAMBDAPRESS_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def sh() -> Shell:
    return Shell()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


def markdown_blocks(path: Path, heading: str) -> list[str]:
    """The fenced code blocks of one section (`## heading`) of a markdown file, as text."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    return re.findall(r"^```[a-z]*\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)


def bash_script(block: str, **replacements: str) -> str:
    """A README block as a script that stops at the first failure, placeholders filled."""
    for placeholder, value in replacements.items():
        block = block.replace(f"<{placeholder}>", value)
    return "set -euo pipefail\n" + block


class Docs:
    """The commands READMEs show, taken as they are written; handed out as `docs`."""

    blocks = staticmethod(markdown_blocks)
    script = staticmethod(bash_script)


@pytest.fixture(scope="session")
def docs() -> Docs:
    return Docs()


@pytest.fixture(scope="session")
def releases() -> dict[str, str]:
    """Each release of the template and its commit (README.md's table of versions)."""
    return dict(RELEASES)


@pytest.fixture(scope="session")
def current_version() -> str:
    """The version tag the template snapshots carry (`v0.4.0`)."""
    return CURRENT_VERSION


@pytest.fixture
def fresh_template(tmp_path: Path) -> Copier:
    """A template repository of this test's own, free to gain commits and tags."""
    return Copier(snapshot_template(tmp_path / "template-repo"))


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_template(tmp_path_factory.mktemp("template") / "lambdapress")


@pytest.fixture(scope="session")
def copier_cli(template_repo: Path) -> Copier:
    return Copier(template_repo)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty folder laid out like a monorepo, to copy services and packages into."""
    root = tmp_path / "platform"
    (root / "services").mkdir(parents=True)
    (root / "packages").mkdir()
    return root


# The working tree committed on top of this repository's own history, an earlier release
# tagged: `copier update` from that release to the working tree is what a team runs.
ReleaseHistory = Callable[[Path, str, str, str], Path]


@pytest.fixture
def release_history(sh: Shell, template_repo: Path) -> ReleaseHistory:
    """`release_history(destination, old_tag, old_commit, new_tag)`: this repository's history
    with `old_commit` tagged `old_tag`, and the working tree committed on top as `new_tag`."""

    def make(destination: Path, old_tag: str, old_commit: str, new_tag: str) -> Path:
        sh.run(
            ["git", "clone", "--quiet", "--no-local", str(REPO_ROOT), str(destination)],
            destination.parent,
        )
        sh.git(destination, "tag", "--force", old_tag, old_commit)
        for old in TEMPLATE_PATHS:
            path = destination / old
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
        shutil.copytree(
            template_repo,
            destination,
            dirs_exist_ok=True,
            symlinks=True,
            ignore=shutil.ignore_patterns(".git"),
        )
        sh.git(destination, "add", "-A")
        sh.git(destination, "commit", "--quiet", "--allow-empty", "-m", "the working tree")
        sh.git(destination, "tag", "--force", new_tag)
        return destination

    return make


# ---------------------------------------------------------------- the example platform, built
EXAMPLE_PARTS = ("pyproject.toml", "uv.lock", "packages", "services", "tools")
EXAMPLE_IGNORE = shutil.ignore_patterns(
    ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", "dist", ".cache", "tests"
)


@pytest.fixture(scope="session")
def packaged_examples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    """A scratch copy of the example platform, packaged once for the session (wheels from the
    repository's cache): its root and its manifest."""
    from lambdapress.bundle.pipeline import package
    from lambdapress.support.files import cache_folder

    root = tmp_path_factory.mktemp("examples") / "platform"
    root.mkdir()
    for part in EXAMPLE_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, root / part, ignore=EXAMPLE_IGNORE)
        else:
            shutil.copy2(source, root / part)
    previous = os.environ.get("LAMBDAPRESS_CACHE")
    os.environ["LAMBDAPRESS_CACHE"] = str(cache_folder(REPO_ROOT))
    try:
        yield root, package(root).manifest
    finally:
        if previous is None:
            os.environ.pop("LAMBDAPRESS_CACHE", None)
        else:
            os.environ["LAMBDAPRESS_CACHE"] = previous


@dataclass(frozen=True)
class ExampleStorage:
    """The real servers behind the example services, and what each function is given."""

    postgres: Any  # lambdapress.storage.postgres.PostgresServer
    orders_url: str
    dynamodb_endpoint: str
    events_url: str

    @property
    def environment(self) -> dict[str, dict[str, str]]:
        """Per service, the variables `lambdapress serve` gives its functions (Emulator's
        `storage=`), as from a running `lambdapress db`."""
        dynamodb = {"AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_endpoint}
        return {
            "orders": {"DATABASE_URL": self.orders_url},
            "customers": {**dynamodb, "CUSTOMERS_TABLE": EXAMPLE_TABLES["customers"]},
            "fulfilment": {**dynamodb, "SHIPMENTS_TABLE": EXAMPLE_TABLES["fulfilment"]},
        }

    @property
    def events(self) -> Any:  # lambdapress.storage.events.EventsEndpoint
        """Where the example's topic and queues are (Emulator's `events=`), as `db` runs them."""
        from lambdapress.model.storage_backends import StageNames
        from lambdapress.storage.events import EventsEndpoint

        return EventsEndpoint(self.events_url, StageNames("examples", "local"))


EXAMPLE_TABLES = {"customers": "examples-local-customers", "fulfilment": "examples-local-shipments"}


@pytest.fixture(scope="session")
def example_storage(
    tmp_path_factory: pytest.TempPathFactory, packaged_examples: tuple[Path, Any]
) -> Iterator[ExampleStorage]:
    """PostgreSQL (max_connections = 20) with the orders database migrated, moto's server (its
    own process: moto's state is per process) with the customers and shipments tables, and
    another with the example's topic and queues (`lambdapress db` runs two as well); for the
    session."""
    from lambdapress.backends.dynamodb import TableSettings
    from lambdapress.storage.dynamodb import create_tables, start_moto
    from lambdapress.storage.events import create_event_resources
    from lambdapress.storage.local import free_port
    from lambdapress.storage.migrations import apply_migrations, create_database, find_migrations
    from lambdapress.storage.pytest_plugin import temporary_postgres

    logs = tmp_path_factory.mktemp("moto")
    with (
        # No autovacuum: its transactions would blur the statistics the tests read.
        temporary_postgres({"max_connections": "20", "autovacuum": "off"}) as postgres,
        start_moto(free_port(), logs / "moto.log") as moto,
        start_moto(free_port(), logs / "events.log") as events,
    ):
        create_database(postgres.url(), "orders")
        apply_migrations(postgres.url("orders"), find_migrations(REPO_ROOT / "services/orders"))
        create_tables(
            moto.endpoint,
            {
                EXAMPLE_TABLES["customers"]: TableSettings(partition_key="id"),
                EXAMPLE_TABLES["fulfilment"]: TableSettings(partition_key="order_id"),
            },
        )
        storage = ExampleStorage(postgres, postgres.url("orders"), moto.endpoint, events.endpoint)
        create_event_resources(storage.events, packaged_examples[1])
        yield storage
