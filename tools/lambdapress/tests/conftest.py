"""Shared fixtures: small fake workspaces and a tiny real copier template, all in tmp_path.

The tests must pass inside any project generated from the lambdapress template, so nothing
here reads the surrounding repository: every workspace and template is built from scratch.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}


def git(cwd: Path, *args: str) -> str:
    """Run git with a fixed identity and no signing, whatever the machine's git config says."""
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env={**_clean_environ(), **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def _clean_environ() -> dict[str, str]:
    """The environment minus variables that would point git at another repository."""
    return {k: v for k, v in os.environ.items() if k not in {"GIT_DIR", "GIT_WORK_TREE"}}


def write(path: Path, text: str) -> Path:
    """Write dedented text, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


class WorkspaceBuilder:
    """Writes the files of a fake uv workspace under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        write(
            root / "pyproject.toml",
            """
            [tool.uv.workspace]
            members = ["packages/*", "services/*", "tools/*"]
            """,
        )

    def package(
        self, name: str, *, version: str | None = "0.1.0", import_name: str | None = None
    ) -> Path:
        folder = self.root / "packages" / name
        version_line = f'version = "{version}"' if version else 'dynamic = ["version"]'
        poetry = (
            f'[tool.poetry]\npackages = [{{ include = "{import_name}", from = "src" }}]\n'
            if import_name
            else ""
        )
        (folder / "pyproject.toml").parent.mkdir(parents=True, exist_ok=True)
        (folder / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\n{version_line}\n{poetry}', encoding="utf-8"
        )
        return folder

    def service(
        self,
        name: str,
        *,
        settings: str = "",
        import_name: str | None = None,
        answers: str | None = None,
    ) -> Path:
        folder = self.root / "services" / name
        include = import_name or name
        text = (
            f'[project]\nname = "{name}"\nversion = "0.1.0"\n'
            'requires-python = ">=3.11"\n'
            'dependencies = ["acme-models"]\n'
            f'[tool.poetry]\npackages = [{{ include = "{include}", from = "src" }}]\n'
            "[tool.uv.sources]\nacme-models = { workspace = true }\n"
        )
        if settings:
            text += "[tool.lambdapress]\n" + textwrap.dedent(settings).lstrip("\n")
        (folder / "src" / include / "handlers").mkdir(parents=True, exist_ok=True)
        (folder / "pyproject.toml").write_text(text, encoding="utf-8")
        if answers is not None:
            write(folder / ".copier-answers.yml", answers)
        return folder

    def answers(self, src_path: str, commit: str | None = "v0.1.0") -> Path:
        """The root `.copier-answers.yml` of a project generated from the template."""
        lines = [f"_src_path: {src_path}", "kind: project", "project_name: acme-platform"]
        if commit is not None:
            lines.insert(0, f"_commit: {commit}")
        return write(self.root / ".copier-answers.yml", "\n".join(lines) + "\n")


# The smallest workspace `lambdapress package` builds: one dependency-free service `shop` on
# python3.11, with an empty handlers package. Tests of commands (signals, serve's watcher) add
# their own modules to it; tests of what a zip holds use the bundle fixtures instead.
BARE_WORKSPACE: dict[str, str] = {
    "pyproject.toml": '[tool.uv.workspace]\nmembers = ["services/*"]\n',
    "services/shop/pyproject.toml": """
[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = []

[tool.poetry]
packages = [{ include = "shop", from = "src" }]

[tool.lambdapress]
runtime = "python3.11"

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
""",
    "services/shop/src/shop/__init__.py": "",
    "services/shop/src/shop/handlers/__init__.py": "",
}

BareWorkspace = Callable[[dict[str, str]], Path]


@pytest.fixture
def bare_workspace(tmp_path: Path) -> BareWorkspace:
    """`bare_workspace(modules)`: BARE_WORKSPACE plus `modules` in `tmp_path/shop`, locked."""

    def make(modules: dict[str, str]) -> Path:
        root = tmp_path / "shop"
        for relative, text in {**BARE_WORKSPACE, **modules}.items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(text.lstrip("\n"), encoding="utf-8")
        locked = subprocess.run(
            ["uv", "lock", "--quiet"], cwd=root, capture_output=True, text=True, check=False
        )
        assert locked.returncode == 0, locked.stderr
        return root

    return make


@pytest.fixture(scope="session", autouse=True)
def user_wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user-level wheel cache of every test and every command a test starts.

    Never the real `~/.cache/lambdapress`: `LAMBDAPRESS_CACHE_DIR` points at a folder of the
    session (whatever the environment said), shared by the session's builds as a developer's
    projects share theirs. A test that needs an empty one sets the variable itself.
    """
    folder = tmp_path_factory.mktemp("user-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAMBDAPRESS_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def runtime_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's cache folder: awslambdaric is installed here once, on first use.

    Shared by every emulator the tests start (the emulator's tests, the trigger kinds').
    """
    return tmp_path_factory.mktemp("lambdapress-cache")


@pytest.fixture
def run_git() -> Callable[..., str]:
    """`run_git(cwd, *args)`: git with a fixed identity, for tests that change a repository."""
    return git


@pytest.fixture
def write_file() -> Callable[[Path, str], Path]:
    """`write_file(path, text)`: write dedented text, creating folders."""
    return write


@pytest.fixture
def builder(tmp_path: Path) -> WorkspaceBuilder:
    """An empty workspace in `tmp_path/repo` to add members to."""
    return WorkspaceBuilder(tmp_path / "repo")


TEMPLATE_COPIER_YML = """
_subdirectory: "template/{{ kind }}"
_answers_file: .copier-answers.yml

kind:
  type: str
  choices: [service, package]

resource:
  type: str
  when: "{{ kind == 'service' }}"
  validator: >-
    {% if not resource.isidentifier() or resource.startswith('bad') %}'{{ resource }}' is not
    an allowed resource name{% endif %}

models_package:
  type: str
  when: "{{ kind == 'service' }}"
  default: acme-models

package_name:
  type: str
  when: "{{ kind == 'package' }}"
  default: acme-models
"""


def _write_template_files(root: Path) -> None:
    write(root / "copier.yml", TEMPLATE_COPIER_YML)
    answers_jinja = "{{ _copier_answers|to_nice_yaml }}"
    write(root / "template/service/{{_copier_conf.answers_file}}.jinja", answers_jinja)
    write(
        root / "template/service/pyproject.toml.jinja",
        """
        [project]
        name = "{{ resource }}"
        version = "0.1.0"
        dependencies = ["{{ models_package }}"]

        [tool.poetry]
        packages = [{ include = "{{ resource }}", from = "src" }]
        """,
    )
    write(root / "template/package/{{_copier_conf.answers_file}}.jinja", answers_jinja)
    write(
        root / "template/package/pyproject.toml.jinja",
        """
        [project]
        name = "{{ package_name }}"
        version = "0.1.0"
        """,
    )


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A committed copier template tagged v0.1.0 (shared: tests only read it)."""
    root = tmp_path_factory.mktemp("template")
    _write_template_files(root)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "template")
    git(root, "tag", "v0.1.0")
    yield root


@pytest.fixture
def template_workspace(tmp_path: Path) -> WorkspaceBuilder:
    """A workspace that *is* the template repository (copier.yml at the root), committed."""
    built = WorkspaceBuilder(tmp_path / "template-repo")
    _write_template_files(built.root)
    built.package("acme-models", import_name="acme_models")
    git(built.root, "init", "-q")
    git(built.root, "add", "-A")
    git(built.root, "commit", "-q", "-m", "template")
    git(built.root, "tag", "v0.2.0")
    return built


@pytest.fixture
def moto_server(
    moto_server: ThreadedMotoServer, monkeypatch: pytest.MonkeyPatch
) -> ThreadedMotoServer:
    """The storage plugin's moto server (S3, CloudFormation, Lambda...: fake credentials, reset
    state, 127.0.0.1, stopped after the test), found by boto3 through `AWS_ENDPOINT_URL`; its
    CloudFormation creates aliases, alarms and CodeDeploy resources (`moto_cloudformation`)."""
    host, port = moto_server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    import moto_cloudformation  # imports moto: only tests that start its server pay for it

    moto_cloudformation.register(monkeypatch)
    return moto_server


class ScriptedServer:
    """A TCP server on 127.0.0.1 that answers each request with `answer(connection, head)`.

    For remotes that misbehave below HTTP's level (accept and never answer, trickle, cut a
    body short, answer garbage): `answer` gets the request's head (the bytes up to the blank
    line) and writes what it likes; returning ends the connection. `stopping` is set when the
    test ends, so an answer that hangs waits on it.
    """

    def __init__(self, answer: Callable[[socket.socket, bytes, threading.Event], None]) -> None:
        self._answer = answer
        self.stopping = threading.Event()
        self.heads: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.stopping.set()
        self._thread.join()
        self._listener.close()
        for connection in self._connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(0.5)
        head = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in head and not self.stopping.is_set():
                try:
                    chunk = connection.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                head += chunk
            self.heads.append(head)
            self._answer(connection, head, self.stopping)


@pytest.fixture
def scripted_server() -> Iterator[Callable[..., ScriptedServer]]:
    """`scripted_server(answer)`: a ScriptedServer, closed when the test ends."""
    started: list[ScriptedServer] = []

    def start(answer: Callable[[socket.socket, bytes, threading.Event], None]) -> ScriptedServer:
        server = ScriptedServer(answer)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
