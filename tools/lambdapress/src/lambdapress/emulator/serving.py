"""`serve`: each trigger kind's local source and the Invoke API over one emulator, kept rebuilt.

    options = ServeOptions(ports={"http": 3000}, lambda_port=3001, rebuild=rebuild,
                           watch=[root / "services"])
    with serve(emulator, options):
        ...  # curl http://127.0.0.1:3000/orders/42

Every trigger kind the build has triggers of gets its local source (`model.trigger_kinds`:
the HTTP API front end for routes), started with the Invoke API; a kind whose first trigger
appears in a rebuild gets its source then. A source stays up when a rebuild leaves its kind
without triggers (the HTTP API then answers 404), so ports do not come and go.

Change detection polls modification times (no dependency, works on every file system). When a
watched file changes, `rebuild(changed_paths)` returns the new manifest (the bundler only
rebuilds what the change affects) and the emulator restarts exactly the functions whose entry
changed; the others keep their warm workers. Without a rebuild hook, the manifest file itself is
watched, so running `nox -s package` in another terminal is picked up.

One `serve` per workspace: the command holds `.cache/lambdapress/serve/serve.lock` (see
`server_lock` and `hold_serve_lock`) for its whole life, so a second `serve` is refused at
once, naming the running one's process and URLs (two would rebuild the same dist/ from the
same sources, and fight over the default ports). A `serve` killed outright frees it.

A rebuild that fails, for whatever reason, never stops the watcher: a LambdapressError is
reported with its message, anything else (a bug) as an internal error with the path of a log
holding its traceback; the emulator keeps serving the last good build, and the next change is
rebuilt as usual.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdapress.emulator.core import Emulator
from lambdapress.emulator.invoke_api import InvokeApi
from lambdapress.emulator.servers import CLIENT_TIMEOUT
from lambdapress.errors import EmulatorError, LambdapressError
from lambdapress.model.application import Application
from lambdapress.model.manifest import read_manifest
from lambdapress.model.trigger_kinds import LocalOptions, LocalSource, kind_name, kinds_in
from lambdapress.model.triggers import HttpRoute
from lambdapress.support.closing import ClosesOnExit
from lambdapress.support.crash import summary, write_crash_log
from lambdapress.support.files import CACHE_FOLDER
from lambdapress.support.server_lock import ServerLock, acquire, lock_path

Rebuild = Callable[[Sequence[Path]], Application]
IGNORED_DIRS = frozenset(
    {"__pycache__", ".git", ".venv", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", "dist"}
)
Snapshot = dict[Path, tuple[int, int]]
LOCK = "serve"
HTTP = kind_name(HttpRoute)
"""The HTTP trigger kind, whose front end `port` and `url` name (the one serve prints first)."""


def serve_folder(root: Path) -> Path:
    """Where `serve` keeps its lock: under the workspace (one checkout, one `serve`)."""
    return root / CACHE_FOLDER / "serve"


def hold_serve_lock(root: Path) -> ServerLock:
    """The workspace's `serve` lock (`describe` it once serving).

    An EmulatorError naming the `serve` that holds it, and how to stop that one, otherwise.
    """
    found = acquire(serve_folder(root), LOCK)
    if isinstance(found, ServerLock):
        return found
    who = f"process {found.pid}" if found.pid else "a start under way"
    where = ", ".join(f"{name} {url}" for name, url in sorted(found.details.items()))
    raise EmulatorError(
        f"lambdapress serve is already running for this workspace ({who}"
        + (f"; {where})" if where else ")"),
        path=lock_path(serve_folder(root), LOCK),
        hint=f"use it (it rebuilds on changes), or stop it first: {found.stop_hint()}",
    )


def snapshot(paths: Iterable[Path]) -> Snapshot:
    """`(mtime_ns, size)` of every file under `paths` (files or folders), skipping caches."""
    found: Snapshot = {}
    for path in paths:
        if path.is_file():
            stat = path.stat()
            found[path] = (stat.st_mtime_ns, stat.st_size)
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if d not in IGNORED_DIRS and not d.endswith(".egg-info")]
            for name in files:
                if name.endswith((".pyc", ".pyo", "~")) or name.startswith(".#"):
                    continue
                file = Path(folder) / name
                try:
                    stat = file.stat()
                except FileNotFoundError:
                    continue
                found[file] = (stat.st_mtime_ns, stat.st_size)
    return found


def changes(before: Snapshot, after: Snapshot) -> list[Path]:
    """Files added, removed or modified between two snapshots, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


class Watcher:
    """Polls `paths` every `interval` seconds; calls `on_change` once a burst of edits settles."""

    def __init__(
        self,
        paths: Sequence[Path],
        on_change: Callable[[list[Path]], object],
        *,
        interval: float = 0.5,
        on_error: Callable[[Exception], object] | None = None,
    ) -> None:
        self.paths = list(paths)
        self.on_change = on_change
        self.on_error = on_error
        """Told about an exception of a step; the thread carries on with the next one."""
        self.interval = interval
        self._state = snapshot(self.paths)
        self._pending: set[Path] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lambdapress-watch", daemon=True)

    def poll(self) -> list[Path]:
        """One step: record new changes; once a step sees none, report the collected ones.

        Returns the paths reported to `on_change` in this step (empty while edits go on).
        """
        current = snapshot(self.paths)
        new = changes(self._state, current)
        self._state = current
        if new:
            self._pending.update(new)
            return []
        if not self._pending:
            return []
        settled, self._pending = sorted(self._pending), set()
        self.on_change(settled)
        return settled

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception as error:  # one bad step must not end the watching
                if self.on_error is not None:
                    # If even the report fails, there is nobody left to tell: carry on.
                    with contextlib.suppress(Exception):
                        self.on_error(error)

    def start(self) -> Watcher:
        """Start watching on a thread of its own; return self."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop watching and wait for the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


@dataclass(frozen=True)
class ReloadRecord:
    """What a rebuild did: the changed files, the functions restarted, or the error."""

    changed_files: tuple[Path, ...]
    functions: tuple[str, ...] = ()
    error: str | None = None
    started: tuple[LocalSource, ...] = ()
    """Local sources started because the rebuild brought the first trigger of their kind."""


@dataclass(frozen=True, kw_only=True)
class ServeOptions:
    """What `serve` starts, and who hears of what it does.

    A trigger kind's local source listens on `ports[kind]` (`{"http": 3000}`, or `port=3000`
    for the HTTP API alone; a kind not named, or 0: any free port) and tells `on_delivery`
    about each delivery (the HTTP API: an `AccessRecord`); the Invoke API listens on
    `lambda_port` (None: off). The watcher polls every `interval` seconds: `watch` with
    `rebuild`, or, without a rebuild, `manifest_file`; `on_reload` hears of each rebuild. A
    client connection silent for `client_timeout` seconds while its request is read is dropped.
    """

    port: int | None = None
    ports: Mapping[str, int] = field(default_factory=dict)
    lambda_port: int | None = 0
    rebuild: Rebuild | None = None
    watch: Sequence[Path] = ()
    manifest_file: Path | None = None
    interval: float = 0.5
    on_delivery: Callable[[Any], None] | None = None
    on_reload: Callable[[ReloadRecord], None] | None = None
    client_timeout: float = CLIENT_TIMEOUT

    def port_of(self, kind: str) -> int:
        """The port `kind`'s local source listens on (0: any free one)."""
        if kind == HTTP and self.port is not None:
            return self.port
        return self.ports.get(kind, 0)

    def watched(self) -> list[Path]:
        """What the watcher polls: `watch` for a rebuild, else the manifest file, else nothing."""
        if self.rebuild is not None:
            return list(self.watch)
        return [self.manifest_file] if self.manifest_file is not None else []


_DEFAULTS = ServeOptions()


class Serving(ClosesOnExit):
    """The running local sources, Invoke API and watcher of `serve()`; `close()` stops all."""

    def __init__(self, emulator: Emulator, options: ServeOptions = _DEFAULTS) -> None:
        self.emulator = emulator
        self.options = options
        self.sources: dict[str, LocalSource] = {}
        """Each trigger kind's local source, by kind (`http`: the HTTP API front end)."""
        self.invoke_api: InvokeApi | None = None
        self.watcher: Watcher | None = None
        self._started = False
        try:
            self._open_sources(emulator.manifest)
            if options.lambda_port is not None:
                self.invoke_api = InvokeApi(
                    emulator, port=options.lambda_port, client_timeout=options.client_timeout
                )
            paths = options.watched()
            if paths:
                self.watcher = Watcher(
                    paths, self.apply, interval=options.interval, on_error=self._watch_failed
                )
        except BaseException:
            self.close()
            raise

    def _open_sources(self, application: Application) -> tuple[LocalSource, ...]:
        """A local source for each kind with triggers in `application` that has none yet.

        Started at once when serving already; returns the new ones.
        """
        opened: list[LocalSource] = []
        for kind in kinds_in(application):
            if kind.name in self.sources:
                continue
            options = LocalOptions(
                port=self.options.port_of(kind.name),
                client_timeout=self.options.client_timeout,
                on_delivery=self.options.on_delivery,
                root=self.emulator.root,
            )
            source = kind.local_source(self.emulator, options)
            self.sources[kind.name] = source
            if self._started:
                source.start()
            opened.append(source)
        return tuple(opened)

    def start(self) -> Serving:
        """Start the local sources, the Invoke API and the watcher; return self."""
        self._started = True
        for source in self.sources.values():
            source.start()
        if self.invoke_api is not None:
            self.invoke_api.start()
        if self.watcher is not None:
            self.watcher.start()
        return self

    def apply(self, changed: list[Path]) -> ReloadRecord:
        """Rebuild (or re-read the manifest) after `changed`, and restart what changed."""
        try:
            if self.options.rebuild is not None:
                manifest = self.options.rebuild(changed)
            elif self.options.manifest_file is not None:
                manifest = read_manifest(self.options.manifest_file)
            else:
                return ReloadRecord(tuple(changed))
            functions = tuple(self.emulator.reload(manifest))
            record = ReloadRecord(tuple(changed), functions, started=self._open_sources(manifest))
        except LambdapressError as exc:  # keep serving the last good build
            record = ReloadRecord(tuple(changed), error=str(exc))
        except Exception as exc:  # a bug: said so, logged, and still the last good build
            record = ReloadRecord(tuple(changed), error=self._internal_error(exc, changed))
        self._report(record)
        return record

    def _watch_failed(self, error: Exception) -> None:
        self._report(ReloadRecord((), error=self._internal_error(error, [])))

    def _report(self, record: ReloadRecord) -> None:
        if self.options.on_reload is not None:
            self.options.on_reload(record)

    def _internal_error(self, error: Exception, changed: Sequence[Path]) -> str:
        what = ["serve: rebuild after changes to", *(str(path) for path in changed)]
        try:
            log = str(write_crash_log(error, self.emulator.root, what))
        except OSError:
            log = "(no log could be written)"
        return f"{summary(error)}\ndetails: {log}"

    @property
    def url(self) -> str:
        """The HTTP API front end's URL (the `http` kind's source), the one `serve` prints first.

        An EmulatorError when the build has no route, so no HTTP API runs.
        """
        source = self.sources.get(HTTP)
        if source is None or source.url is None:
            raise EmulatorError(
                "no HTTP API is running: no function of the build has a route",
                hint="declare a route (@app.get(...)) and rebuild; serving.sources lists what runs",
            )
        return source.url

    @property
    def lambda_url(self) -> str | None:
        """The Invoke API's URL, when it was started."""
        return None if self.invoke_api is None else self.invoke_api.url

    def close(self) -> None:
        """Stop the watcher, then the local sources and the Invoke API."""
        if self.watcher is not None:
            self.watcher.close()
        for source in self.sources.values():
            source.close()
        if self.invoke_api is not None:
            self.invoke_api.close()


def serve(emulator: Emulator, options: ServeOptions = _DEFAULTS) -> Serving:
    """Start each trigger kind's local source, the Invoke API and the watcher, as `options` say."""
    return Serving(emulator, options).start()
