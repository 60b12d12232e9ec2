"""`.cache/lambdapress/db/state.json`: where the running local servers are, for serve and invoke.

`lambdapress db` writes it once its servers accept connections and removes it when it stops;
`serve` and `invoke` read it to give each function the settings of its service's storage. It
holds one part per storage backend whose server runs, in that backend's own shape
(`LocalStorage.state_model`, see `model.storage_backends`), checked on reading. The file names
the `db` process, so a file left by a killed `db` (no clean-up ran) is recognised as stale
instead of sending functions to a port nothing listens on. It holds no secret: the database
URLs carry no password (trust authentication on 127.0.0.1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdapress.errors import LambdapressError, StorageError
from lambdapress.model.storage_backends import AnyBackend, storage_backend
from lambdapress.storage.events_server import EventsState
from lambdapress.support import files
from lambdapress.support.lifetime import running

STATE_FILE = "state.json"


class LocalStorageState(BaseModel):
    """The servers of one `lambdapress db` run: each backend's part, by backend name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pid: int = Field(gt=0, lt=2**31)
    """The `lambdapress db` process; the state is stale once it is gone."""
    backends: dict[str, dict[str, Any]] = {}
    """Backend name -> what its server recorded (its `state_model`, as JSON)."""
    events: EventsState | None = None
    """The events server (queues, topics, buses, buckets), when `db` runs one."""


def backend_state(state: LocalStorageState, backend: AnyBackend) -> BaseModel | None:
    """`backend`'s part of the state, in its own shape; None when its server is not running."""
    part = state.backends.get(backend.name)
    if part is None or backend.local is None:
        return None
    return backend.local.state_model.model_validate(part)


def db_folder(root: Path) -> Path:
    """Where `lambdapress db` keeps its data, logs and state: `.cache/lambdapress/db`.

    Always under the workspace, even when `$LAMBDAPRESS_CACHE` moves the build cache: a
    database belongs to one checkout, and a shared cache folder must not mix two of them.
    """
    return root / files.CACHE_FOLDER / "db"


def state_path(root: Path) -> Path:
    """The state file of the workspace at `root`."""
    return db_folder(root) / STATE_FILE


def write_state(root: Path, state: LocalStorageState) -> Path:
    """Publish the state atomically (a reader never sees half a file)."""
    path = state_path(root)
    files.write_text(path, state.model_dump_json(indent=2) + "\n")
    return path


def remove_state(root: Path, pid: int) -> None:
    """Remove the state file if it is still `pid`'s (another `db` may have replaced it)."""
    try:
        current = read_state(root, only_running=False)
    except StorageError:  # not ours to remove: whoever damaged it is told by the next reader
        return
    if current is not None and current.pid == pid:
        state_path(root).unlink(missing_ok=True)


def read_state(root: Path, *, only_running: bool = True) -> LocalStorageState | None:
    """The state of the running `lambdapress db`; None when there is none (or it is stale).

    A file that is there but cannot be read, or is not a state file (edited, written by another
    version, or naming a backend not registered here), is a StorageError naming it: functions
    must not be started with the settings of storage nobody can vouch for.
    """
    path = state_path(root)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(
            f"cannot read the local servers' state file: {exc.strerror or exc}",
            path=path,
            hint="check its permissions, or restart `lambdapress db`, which rewrites it",
        ) from None
    try:
        state = LocalStorageState.model_validate_json(text)
    except ValidationError as exc:
        raise _not_written_by_db(path, exc) from None
    for name in state.backends:
        try:
            backend_state(state, storage_backend(name))
        except ValidationError as exc:
            raise _not_written_by_db(path, exc, ("backends", name)) from None
        except LambdapressError as exc:  # a backend not registered in this process
            raise _not_written_by_db(path, exc.message) from None
    if only_running and not running(state.pid):
        return None
    return state


def _not_written_by_db(
    path: Path, problem: ValidationError | str, within: tuple[str, ...] = ()
) -> StorageError:
    if isinstance(problem, ValidationError):
        first = problem.errors()[0]
        where = ".".join(str(part) for part in (*within, *first["loc"]))
        problem = f"{f'`{where}`: ' if where else ''}{first['msg']}"
    return StorageError(
        f"the local servers' state file is not one `lambdapress db` wrote ({problem})",
        path=path,
        hint="restart `lambdapress db` (it rewrites the file), or delete the file if no "
        "`lambdapress db` runs",
    )
