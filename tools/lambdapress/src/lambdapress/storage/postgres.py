"""A PostgreSQL server of our own: initdb + postgres on 127.0.0.1, data in a folder we own.

The same code serves `lambdapress db` (data in `.cache/lambdapress/db/postgres`) and the test
fixtures (data in a temporary folder). Three facts shape it:

- `initdb` and `postgres` refuse to run as root, and CI runs as root: then both run as an
  unprivileged system user (`postgres`, which the Debian package creates). Python's
  `subprocess` switches user in the child after fork, *before* our pre-exec hook asks the
  kernel for a parent-death signal (a change of user would clear it), so a server started for
  a SIGKILLed parent still stops.
- Authentication is `trust` on 127.0.0.1 only: URLs carry a user name and no password, so
  nothing secret can be printed or logged. The server listens on no Unix socket and on no
  other interface.
- The server runs in the foreground as our child (never daemonised by `pg_ctl`), so it dies
  with us; `stop()` asks for a fast shutdown (SIGINT: sessions are disconnected, nothing is
  lost) instead of SIGTERM's smart shutdown, which would wait for every client to leave.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdapress.errors import StorageError
from lambdapress.support.closing import ClosesOnExit
from lambdapress.support.lifetime import bound_popen, release, running
from lambdapress.support.loopback import LOOPBACK

SUPERUSER = "lambdapress"
UNPRIVILEGED_USER = "postgres"
_SEARCH_PATH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/opt/homebrew/bin")
_PROGRAMS = ("initdb", "postgres")
ORPHAN_WAIT = 30.0
"""Seconds to wait for a PostgreSQL left by a killed `db` to finish shutting down."""


@dataclass(frozen=True)
class PostgresBinaries:
    """Where `initdb` and `postgres` are (one installation: both from the same folder)."""

    initdb: Path
    postgres: Path


@dataclass(frozen=True)
class RunAs:
    """The user the server runs as: ourselves, or an unprivileged one when we are root."""

    name: str
    uid: int
    gid: int

    def popen_options(self) -> dict[str, Any]:
        """Keyword arguments for `subprocess` that switch to this user (none if it is us)."""
        if self.uid == os.geteuid():
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def find_binaries(environ: Mapping[str, str] | None = None) -> PostgresBinaries:
    """`initdb` and `postgres` from PATH, else from the usual installation folders.

    Debian keeps them out of PATH (in /usr/lib/postgresql/<major>/bin); the newest major wins.
    """
    env = os.environ if environ is None else environ
    on_path = [shutil.which(name, path=env.get("PATH")) for name in _PROGRAMS]
    if all(on_path):
        return PostgresBinaries(*(Path(str(found)) for found in on_path))
    folders: list[Path] = []
    for pattern in _SEARCH_PATH:
        parent, _, rest = pattern.partition("*")
        if rest:
            found = sorted(Path(parent).glob(f"*{rest}"), key=_major, reverse=True)
            folders += found
        else:
            folders.append(Path(pattern))
    for folder in folders:
        if all((folder / name).is_file() for name in _PROGRAMS):
            return PostgresBinaries(folder / "initdb", folder / "postgres")
    raise StorageError(
        "PostgreSQL's server programs (initdb, postgres) are not installed",
        hint="install them: `sudo apt-get install postgresql` (Debian/Ubuntu), "
        "`brew install postgresql` (macOS); or put their folder on PATH",
    )


def _major(folder: Path) -> int:
    name = folder.parent.name
    return int(name) if name.isdigit() else 0


def server_user() -> RunAs:
    """Who runs the server: the current user, or `postgres` when we are root."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return RunAs(me.pw_name, me.pw_uid, me.pw_gid)
    try:
        user = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise StorageError(
            "PostgreSQL refuses to run as root, and there is no `postgres` user to run it as",
            hint="run as a normal user, or create the user: "
            "`useradd --system --home /var/lib/postgresql postgres` "
            "(the Debian package `postgresql` does this)",
        ) from None
    return RunAs(user.pw_name, user.pw_uid, user.pw_gid)


def check_reachable(folder: Path, user: RunAs) -> None:
    """Raise a clear error when `user` cannot reach `folder` (a 0700 parent, such as /root)."""
    if user.uid == os.geteuid():
        return
    for parent in [folder, *folder.parents]:
        if not parent.exists():
            continue
        mode = parent.stat().st_mode
        if parent.stat().st_uid != user.uid and not mode & 0o001:
            raise StorageError(
                f"the {user.name} user that runs PostgreSQL (we are root) cannot enter {parent}",
                path=folder,
                hint=f"let it through (`chmod o+x {parent}`), or run as a normal user",
            )


def prepare_data_folder(data: Path, binaries: PostgresBinaries, user: RunAs) -> bool:
    """Run initdb in `data` unless it already holds a cluster; True when it was created now."""
    if (data / "PG_VERSION").is_file():
        return False
    check_reachable(data.parent, user)
    if data.exists():
        shutil.rmtree(data)  # a half-made cluster from an interrupted initdb
    data.mkdir(parents=True)
    if user.uid != os.geteuid():
        os.chown(data, user.uid, user.gid)
    data.chmod(0o700)
    command = [
        str(binaries.initdb),
        "--pgdata",
        str(data),
        "--username",
        SUPERUSER,
        "--auth",
        "trust",
        "--encoding",
        "UTF8",
        "--locale",
        "C",
        "--no-sync",
        "--no-instructions",
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd=data,
        **user.popen_options(),
    )
    if done.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        raise StorageError(
            f"initdb failed (exit {done.returncode}): {done.stderr.strip()[:800]}",
            path=data,
            hint="read the message above; remove the folder and try again",
        )
    return True


class PostgresServer(ClosesOnExit):
    """A running PostgreSQL server of ours; `stop()` or leaving the `with` block ends it."""

    def __init__(self, process: subprocess.Popen[bytes], data: Path, port: int, log: Path) -> None:
        self.process = process
        self.data = data
        self.port = port
        self.log = log

    @property
    def host(self) -> str:
        """The loopback address it listens on."""
        return LOOPBACK

    @property
    def user(self) -> str:
        """The superuser name (trust authentication: no password anywhere)."""
        return SUPERUSER

    def url(self, database: str = "postgres") -> str:
        """A libpq URL for `database`; it holds no password."""
        return database_url(self.port, database)

    def close(self) -> None:
        """Stop the server (the `with` block's exit does it too)."""
        self.stop()

    def stop(self, timeout: float = 20.0) -> None:
        """A fast shutdown: sessions are disconnected, the data is written, the server exits."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGQUIT)  # immediate shutdown
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        release(self.process)


def database_url(port: int, database: str, host: str = LOOPBACK) -> str:
    """`postgresql://lambdapress@127.0.0.1:PORT/DATABASE`: trust authentication, no password."""
    return f"postgresql://{SUPERUSER}@{host}:{port}/{database}"


def start_postgres(
    data: Path,
    port: int,
    *,
    binaries: PostgresBinaries | None = None,
    settings: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> PostgresServer:
    """initdb `data` if needed, start the server on 127.0.0.1:`port`, wait until it accepts.

    `settings` are server parameters (`max_connections`, `idle_session_timeout`, ...) given on
    its command line, so they apply to this run only.
    """
    found = binaries or find_binaries()
    user = server_user()
    prepare_data_folder(data, found, user)
    parameters = {
        "listen_addresses": LOOPBACK,
        "port": str(port),
        "unix_socket_directories": "",
        "fsync": "off",  # a development server: speed over durability across power cuts
        "synchronous_commit": "off",
        "full_page_writes": "off",
        **(settings or {}),
    }
    command = [str(found.postgres), "-D", str(data)]
    for name, value in parameters.items():
        command += ["-c", f"{name}={value}"]
    log = data.parent / "postgres.log"
    with log.open("ab") as sink:
        if user.uid != os.geteuid():
            os.chown(log, user.uid, user.gid)
        process = bound_popen(
            command,
            cwd=data,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches us, and we stop it
            **user.popen_options(),
        )
    server = PostgresServer(process, data, port, log)
    try:
        _wait_until_ready(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_ready(server: PostgresServer, timeout: float) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise StorageError(
                f"PostgreSQL exited at start (code {server.process.returncode}): "
                f"{_tail(server.log)}",
                path=server.log,
                hint=f"is port {server.port} taken? pass another --port; read the log",
            )
        try:
            with psycopg.connect(server.url(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise StorageError(
                    f"PostgreSQL did not accept connections within {timeout:.0f} s",
                    path=server.log,
                    hint="read its log",
                ) from None
            time.sleep(0.05)


def _tail(log: Path, lines: int = 5) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return " | ".join(text.strip().splitlines()[-lines:])


def _serves(pid: int, data: Path) -> bool:
    """Whether `pid` is a PostgreSQL server on `data` (its command line says so; Linux).

    A pid in a stale postmaster.pid may have been reused by any process since: only a server
    whose command line names this data folder is ever signalled.
    """
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(data).encode() in arguments and any(b"postgres" in a for a in arguments[:1])


def stop_orphaned_postgres(data: Path, say: Callable[[str], None]) -> None:
    """Stop a PostgreSQL still running on `data` although no `db` holds the lock.

    Only a `db` killed outright leaves one: its server was told to stop (PDEATHSIG) and may
    still be shutting down. It holds the data folder until it exits, so a new server could not
    start there; it is ours, so it gets a fast shutdown (SIGINT) and is waited for.
    """
    try:
        pid = int((data / "postmaster.pid").read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return
    if pid <= 0 or pid == os.getpid() or not running(pid) or not _serves(pid, data):
        return
    say(f"PostgreSQL: stopping the server a killed `lambdapress db` left (process {pid})")
    try:
        os.kill(pid, signal.SIGINT)
    except OSError:
        return
    deadline = time.monotonic() + ORPHAN_WAIT
    while running(pid):
        if time.monotonic() > deadline:
            raise StorageError(
                f"a PostgreSQL left by an earlier `lambdapress db` (process {pid}) still runs "
                f"on {data}",
                path=data / "postmaster.pid",
                hint=f"stop it (`kill {pid}`), then start `lambdapress db` again",
            )
        time.sleep(0.1)
