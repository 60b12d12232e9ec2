"""A local package index (pypiserver) on 127.0.0.1, for trying the whole flow on one machine.

`nox -s index` (through `lambdapress index serve`) and the tests start the same server: files
in a folder under the repository's ignored `.cache/`, uploads protected by an htpasswd file
when credentials are given (the file holds a salted hash, never the password), and PyPI as
the fallback for everything else, so `pip install --index-url <local>/simple/ acme-models`
also finds pydantic. It only ever listens on the loopback interface.

One server per folder: `start_server` first takes `<folder>/index.lock` (see `server_lock`),
held until pypiserver has stopped. A second start (even at the same instant) raises
`IndexAlreadyServed`, naming the running server's URL and process: `lambdapress index serve`
then attaches to it (prints where it is, exit 0), since a second pypiserver on the same files
would only add a port to keep track of.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from lambdapress.errors import IndexServerError
from lambdapress.indexes.config import UploadApiIndex
from lambdapress.support import files
from lambdapress.support.closing import ClosesOnExit
from lambdapress.support.lifetime import bound_popen, stop_bound
from lambdapress.support.loopback import LOOPBACK
from lambdapress.support.server_lock import Holder, ServerLock, acquire, lock_path, peek

LOCK = "index"
DEFAULT_PORT = 8080
# The names an index's configured URL may give this machine by.
THIS_MACHINE = (LOOPBACK, "localhost", "::1")


class ServerPlan(BaseModel):
    """How the local index will run."""

    model_config = ConfigDict(frozen=True)

    port: int
    packages_dir: Path
    htpasswd: Path | None
    """None: uploads are open to anyone who can reach 127.0.0.1."""
    username: str | None = None
    password: SecretStr | None = None
    fallback: bool = True

    @property
    def url(self) -> str:
        """The upload URL (the server's root)."""
        return f"http://{LOOPBACK}:{self.port}/"

    @property
    def index_url(self) -> str:
        """The simple index, for pip, uv and `index-url`."""
        return self.url + "simple/"

    def command(self) -> list[str]:
        """The pypiserver command line (no secret on it)."""
        auth = (
            ["-P", str(self.htpasswd), "-a", "update"] if self.htpasswd else ["-P", ".", "-a", "."]
        )
        fallback = [] if self.fallback else ["--disable-fallback"]
        return [
            sys.executable,
            "-m",
            "pypiserver",
            "run",
            "--interface",
            LOOPBACK,
            "--port",
            str(self.port),
            "--hash-algo",
            "sha256",
            *auth,
            *fallback,
            str(self.packages_dir),
        ]


def plan_server(
    folder: Path,
    *,
    port: int | None = None,
    index: UploadApiIndex | None = None,
    environ: dict[str, str] | None = None,
    fallback: bool = True,
) -> ServerPlan:
    """Where the files live, which port, and whether uploads need the index's credentials.

    With `index` (the `local` entry of the root pyproject), the port comes from its URL and
    the credentials from its variables; without them set, uploads are not authenticated.
    """
    env = dict(os.environ) if environ is None else environ
    chosen = port
    username = password = None
    if index is not None:
        parts = urlsplit(index.upload_url)
        if parts.hostname not in THIS_MACHINE:
            raise IndexServerError(
                f"index {index.name!r} points at {parts.hostname}, not this machine",
                hint="the local index only listens on 127.0.0.1: serve an index whose "
                "upload-url is http://127.0.0.1:PORT/",
            )
        chosen = chosen or parts.port or DEFAULT_PORT
        username = env.get(index.username_variable) or index.username
        password = env.get(index.password_variable)
    authenticated = bool(username and password)
    return ServerPlan(
        port=chosen or DEFAULT_PORT,
        packages_dir=folder / "packages",
        htpasswd=folder / "htpasswd" if authenticated else None,
        username=username if authenticated else None,
        password=SecretStr(password) if authenticated and password else None,
        fallback=fallback,
    )


def write_htpasswd(path: Path, username: str, password: str) -> None:
    """An Apache htpasswd file with one user (salted hash), written atomically, mode 0600."""
    try:
        with warnings.catch_warnings():  # passlib 1.7 imports the deprecated `crypt` module
            warnings.simplefilter("ignore", DeprecationWarning)
            from passlib.apache import HtpasswdFile
    except ImportError:
        raise IndexServerError(
            "upload authentication for the local index needs passlib",
            hint="install pypiserver with it: pip install 'pypiserver[passlib]'",
        ) from None

    table = HtpasswdFile()
    table.set_password(username, password)
    files.write_bytes(path, table.to_string(), mode=0o600)


class IndexAlreadyServed(IndexServerError):
    """Another process already serves this folder: its URL and pid, to attach to it."""

    def __init__(self, holder: Holder, lock: Path) -> None:
        who = f"process {holder.pid}" if holder.pid else "a start under way"
        self.holder = holder
        self.url = holder.details.get("url")
        super().__init__(
            f"the local index is already running on {self.url or 'a port not known yet'} "
            f"(lambdapress index serve, {who})",
            path=lock,
            hint=f"use it, or stop it first: {holder.stop_hint()}",
        )


class IndexServer(ClosesOnExit):
    """A running pypiserver; stop it with `stop()` or by leaving the `with` block."""

    def __init__(
        self,
        plan: ServerPlan,
        process: subprocess.Popen[bytes],
        log: Path,
        lock: ServerLock | None = None,
    ) -> None:
        self.plan = plan
        self.process = process
        self.log = log
        self.lock = lock

    @property
    def url(self) -> str:
        """The upload URL."""
        return self.plan.url

    @property
    def index_url(self) -> str:
        """The simple index URL."""
        return self.plan.index_url

    def wait(self) -> int:
        """Block until the server exits (Ctrl-C in the CLI); returns its exit code."""
        return self.process.wait()

    def close(self) -> None:
        """Stop the server (the `with` block's exit does it too)."""
        self.stop()

    def stop(self) -> None:
        """Terminate the server and wait for it; then the folder is free for another start."""
        try:
            stop_bound(self.process)
        finally:
            if self.lock is not None:
                self.lock.release()


def start_server(plan: ServerPlan, *, timeout: float = 30.0) -> IndexServer:
    """Start pypiserver as planned and wait until it answers.

    `IndexAlreadyServed` when another process serves the same folder.
    """
    folder = plan.packages_dir.parent
    lock = acquire(folder, LOCK)
    if isinstance(lock, Holder):
        raise IndexAlreadyServed(_once_it_serves(folder, lock, timeout), lock_path(folder, LOCK))
    try:
        plan.packages_dir.mkdir(parents=True, exist_ok=True)
        if plan.htpasswd is not None and plan.username and plan.password:
            write_htpasswd(plan.htpasswd, plan.username, plan.password.get_secret_value())
        log = folder / "server.log"
        with log.open("wb") as sink:
            # Bound to our lifetime: pypiserver must not keep accepting uploads after its
            # parent (`lambdapress index serve`, a test, nox) is killed, even by SIGKILL.
            process = bound_popen(plan.command(), stdout=sink, stderr=subprocess.STDOUT)
    except BaseException:
        lock.release()
        raise
    server = IndexServer(plan, process, log, lock)
    try:
        _wait_until_it_answers(server, timeout)
    except BaseException:
        server.stop()
        raise
    lock.describe(url=plan.url, index_url=plan.index_url)
    return server


def _once_it_serves(folder: Path, holder: Holder, timeout: float) -> Holder:
    """The holder once it has said its URL (a start under way says it when it answers)."""
    deadline = time.monotonic() + timeout
    while "url" not in holder.details and (holder.pid is None or holder.alive):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
        holder = peek(folder, LOCK)
    return holder


def _wait_until_it_answers(server: IndexServer, timeout: float) -> None:
    plan, process, log = server.plan, server.process, server.log
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise IndexServerError(
                f"pypiserver exited at start (code {process.returncode}): {_tail(log)}",
                path=log,
                hint=f"is port {plan.port} taken? pass another --port; is pypiserver installed "
                "(pip install 'pypiserver[passlib]')?",
            )
        if _answers(plan.url + "health"):
            return
        time.sleep(0.1)
    raise IndexServerError(
        f"pypiserver did not answer on {plan.url} within {timeout:.0f} s: {_tail(log)}",
        path=log,
        hint="read the log; try another --port",
    )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback http)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _tail(log: Path, lines: int = 5) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(line for line in text.strip().splitlines()[-lines:])
