"""`.cache/lambdapress/db/state.json`: where the running local servers are, for serve and invoke.

`lambdapress db` writes it once its servers accept connections and removes it when it stops;
`serve` and `invoke` read it to give each function the settings of its service's storage. The
file names the `db` process, so a file left by a killed `db` (no clean-up ran) is recognised as
stale instead of sending functions to a port nothing listens on. It holds no secret: the
database URLs carry no password (trust authentication on 127.0.0.1).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdapress.errors import StorageError
from lambdapress.support import files
from lambdapress.support.lifetime import running

STATE_FILE = "state.json"


class LocalStorageState(BaseModel):
    """The servers of one `lambdapress db` run and what each service has in them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pid: int = Field(gt=0, lt=2**31)
    """The `lambdapress db` process; the state is stale once it is gone."""
    postgres_port: int | None = Field(default=None, ge=1, le=65535)
    dynamodb_endpoint: str | None = None
    region: str
    databases: dict[str, str] = {}
    """service -> its database's libpq URL (no password)."""
    tables: dict[str, dict[str, str]] = {}
    """service -> table -> physical table name."""


def db_folder(root: Path) -> Path:
    """Where `lambdapress db` keeps its data, logs and state: `.cache/lambdapress/db`.

    Always under the workspace, even when `$LAMBDAPRESS_CACHE` moves the build cache: a
    database belongs to one checkout, and a shared cache folder must not mix two of them.
    """
    return root / ".cache" / "lambdapress" / "db"


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

    A file that is there but cannot be read, or is not a state file (edited, or written by
    another version), is a StorageError naming it: functions must not be started with the
    settings of storage nobody can vouch for.
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
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise StorageError(
            "the local servers' state file is not one `lambdapress db` wrote "
            f"({f'`{where}`: ' if where else ''}{problem['msg']})",
            path=path,
            hint="restart `lambdapress db` (it rewrites the file), or delete the file if no "
            "`lambdapress db` runs",
        ) from None
    if only_running and not running(state.pid):
        return None
    return state
