"""The emulator: every function of a manifest, runnable locally as Lambda runs it.

    with Emulator(read_manifest(manifest_path(root)), root) as emulator:
        result = emulator.invoke("orders.get_order", event)
        result.response, result.error, result.logs, result.report

Functions are prepared on their first invocation (artifact checked and unzipped, interpreter
and runtime client found), then each keeps a pool of warm workers. `close()` stops every worker
and thread; nothing outlives the `with` block.
"""

from __future__ import annotations

import json
import platform
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdapress.config.lambda_platform import architecture_of_machine
from lambdapress.emulator._artifacts import extract_artifact
from lambdapress.emulator._container import WorkerSpec, check_environment
from lambdapress.emulator._isolation import Isolation, IsolationChoice, probe
from lambdapress.emulator._ric import (
    RuntimeClient,
    RuntimeClientChoice,
    runtime_client,
)
from lambdapress.emulator._workers import InvokeRequest
from lambdapress.emulator.context import (
    DEFAULT_REGION,
    MAX_REQUEST_PAYLOAD,
    function_arn,
    lambda_name,
    new_request_id,
)
from lambdapress.emulator.pool import FunctionPool, PoolStats
from lambdapress.emulator.reports import InvocationResult
from lambdapress.errors import EmulatorError, LambdapressError
from lambdapress.model.application import Application, Function, find_function
from lambdapress.model.manifest import manifest_path, read_manifest
from lambdapress.storage import config_values
from lambdapress.storage.events import EventsEndpoint, event_environment
from lambdapress.support.closing import ClosesOnExit
from lambdapress.support.files import cache_folder
from lambdapress.support.toolchain import Interpreter, find_interpreter

_MISSING: Any = object()


class EmulatorWarning(UserWarning):
    """Something that makes local runs less faithful than Lambda.

    Another Python version, the fallback runtime loop, an arm64 artifact on an x86_64 machine.
    """


def isolation_warnings(isolation: Isolation, platform_name: str = sys.platform) -> list[str]:
    """What workers see of the host here that a Lambda container would not: one line each."""
    messages = []
    if not isolation.namespaces:
        messages.append(
            f"workers share this machine's /tmp and can write to their code folder here "
            f"({isolation.reason}): each gets a private TMPDIR instead, and writes into its "
            "code folder fail only through Python's own file functions (native code and child "
            "processes still can); /tmp is not limited to the function's ephemeral storage"
        )
    if not platform_name.startswith("linux"):
        messages.append(
            f"workers see the shared libraries of this machine ({platform_name}): a ctypes "
            "load of a library that Lambda's runtime lacks succeeds here (only Linux hides them)"
        )
    return messages


@dataclass(frozen=True, kw_only=True)
class WorkerOptions:
    """What each function's workers are: how many, how long they live, and what runs them.

    `concurrency`: workers a function may run at once; `idle_timeout`: seconds an unused worker
    stays warm; `init_timeout`: seconds a worker's init phase may take. `runtime_client`:
    awslambdaric, the pure-Python fallback loop, or `auto` (see `ric`); `pythons`: the
    interpreter to use per Python version (`{"3.12": Path(...)}`; otherwise one is found);
    `isolation`: how workers get a read-only code folder and a private /tmp (see `isolation`);
    `host_builds`: run functions of another architecture from a build for this machine's.
    """

    concurrency: int = 10
    idle_timeout: float = 300.0
    init_timeout: float = 10.0
    runtime_client: RuntimeClientChoice = "auto"
    pythons: Mapping[str, Path] = field(default_factory=dict)
    isolation: IsolationChoice = "auto"
    host_builds: bool = True


@dataclass(frozen=True, kw_only=True)
class Listeners:
    """Who hears what the emulator has to tell; a library never prints.

    `on_warning`: something that makes runs less faithful, once per message (None: a Python
    warning, `EmulatorWarning`); `on_progress`: slow one-time work, such as the runtime
    client's first install; `on_invocation`: every result, as it returns.
    """

    on_warning: Callable[[str], None] | None = None
    on_progress: Callable[[str], None] | None = None
    on_invocation: Callable[[InvocationResult], None] | None = None


_DEFAULT_WORKERS = WorkerOptions()
_NOBODY = Listeners()


class Emulator(ClosesOnExit):
    """Runs the functions of `manifest` (artifacts resolved against `root`) like Lambda.

    `workers` says what the workers are, `listeners` who hears of warnings, progress and
    results; `storage` holds, per service, the variables that say where its data lives (see
    `lambdapress.storage`), `events` where its queues, topics, buses and buckets are (moto's
    server, `storage.events`); `cache_dir` is where runtime clients and local builds are kept
    (default the workspace's cache) and `region` the one functions see.
    """

    def __init__(
        self,
        manifest: Application,
        root: Path,
        *,
        workers: WorkerOptions = _DEFAULT_WORKERS,
        listeners: Listeners = _NOBODY,
        storage: Mapping[str, Mapping[str, str]] | None = None,
        cache_dir: Path | None = None,
        region: str = DEFAULT_REGION,
        events: EventsEndpoint | None = None,
    ) -> None:
        for entry in manifest.functions:
            check_environment(entry)
        self.root = root.resolve()
        self.cache_dir = cache_dir or cache_folder(self.root)
        self.workers = workers
        self.listeners = listeners
        self.region = region
        self.storage = {service: dict(values) for service, values in (storage or {}).items()}
        """Per service: the variables that say where its data lives (see lambdapress.storage)."""
        self.events = events
        """Where the queues, topics, buses and buckets functions use live (`storage.events`):
        each function gets their addresses and boto3's endpoints; the local event sources
        deliver from there."""
        self._isolation: Isolation | None = None
        self._manifest = manifest
        self._lock = threading.RLock()
        self._pools: dict[str, FunctionPool] = {}
        self._retired: list[FunctionPool] = []
        self._interpreters: dict[str, tuple[Interpreter, RuntimeClient]] = {}
        self._warned: set[str] = set()
        self._workdir = tempfile.TemporaryDirectory(prefix="lambdapress-emulator-")
        self._closed = False
        self._stop = threading.Event()
        self._janitor: threading.Thread | None = None

    @classmethod
    def from_root(cls, root: Path, **options: Any) -> Emulator:
        """An emulator for `root/dist/manifest.json`."""
        return cls(read_manifest(manifest_path(root)), root, **options)

    @property
    def manifest(self) -> Application:
        """The manifest the functions come from."""
        return self._manifest

    # -- invoking ----------------------------------------------------------------------------
    def resolve(self, name: str) -> Function:
        """A function by manifest name, Lambda name or ARN, with an optional `:$LATEST` qualifier.

        `orders.get_order`, `orders-get_order` and the function's ARN all name the same function.
        """
        wanted = name.split(":function:", 1)[1] if ":function:" in name else name
        return find_function(
            self._manifest.functions,
            name,
            EmulatorError,
            hint="check the name, or run `nox -s package` after adding the handler",
            where=" in the manifest",
            key=wanted.split(":", 1)[0],
            aliases=lambda entry: (entry.name, lambda_name(entry.name)),
        )

    def invoke(
        self,
        name: str,
        event: Any = _MISSING,
        *,
        payload: bytes | None = None,
        client_context: Mapping[str, object] | None = None,
        cognito_identity: Mapping[str, object] | None = None,
        request_id: str | None = None,
    ) -> InvocationResult:
        """Invoke a function synchronously (RequestResponse), as Lambda does.

        Give `event` (any JSON value) or a raw JSON `payload`; the result is what Lambda would
        return: response or error, logs, report.
        """
        entry = self.resolve(name)
        if payload is None:
            payload = json.dumps({} if event is _MISSING else event).encode()
        if len(payload) > MAX_REQUEST_PAYLOAD:
            raise EmulatorError(
                f"the event for {entry.name} is {len(payload)} bytes; Lambda accepts at most "
                f"{MAX_REQUEST_PAYLOAD} bytes for a synchronous invocation",
                hint="send a smaller event (large data belongs in S3, passed by reference)",
            )
        request = InvokeRequest(
            payload=payload,
            request_id=request_id or new_request_id(),
            client_context=client_context,
            cognito_identity=cognito_identity,
        )
        result = self._pool(entry).invoke(request)
        if self.listeners.on_invocation is not None:
            self.listeners.on_invocation(result)
        return result

    def function_arn(self, name: str) -> str:
        """The ARN of a function, by any name `resolve` accepts."""
        return function_arn(self.resolve(name).name, self.region)

    # -- pools -------------------------------------------------------------------------------
    def _pool(self, entry: Function) -> FunctionPool:
        with self._lock:
            if self._closed:
                raise EmulatorError("the emulator is closed", hint="start a new Emulator")
            pool = self._pools.get(entry.name)
            if pool is None:
                pool = FunctionPool(
                    self._spec(entry),
                    concurrency=self.workers.concurrency,
                    idle_timeout=self.workers.idle_timeout,
                )
                self._pools[entry.name] = pool
                self._start_janitor()
            return pool

    def _spec(self, entry: Function) -> WorkerSpec:
        workdir = Path(self._workdir.name)
        interpreter, client = self._runtime_for(entry)
        entry = self._for_this_machine(entry, interpreter)
        task_root = extract_artifact(entry, self.root, workdir / "tasks")
        return WorkerSpec(
            entry=entry,
            task_root=task_root,
            interpreter=interpreter,
            client=client,
            scratch=workdir / "tmp",
            region=self.region,
            init_timeout=self.workers.init_timeout,
            storage=self._environment(entry),
            isolation=self.isolation(),
            layer_libraries=entry.contents.layer_libraries,
        )

    def _environment(self, entry: Function) -> dict[str, str]:
        """Its service's storage variables and, with an events server, its event resources'."""
        variables = dict(self.storage.get(entry.service, {}))
        if self.events is not None:
            variables.update(event_environment(self.events, self._manifest, entry))
            used = self._manifest.used_by(entry)  # secrets and parameters: their local names
            variables.update(config_values.local_environment(self.events, used))
        return variables

    def isolation(self) -> Isolation:
        """How workers are isolated here, found on first use; warns once about what is not."""
        with self._lock:
            if self._isolation is None:
                self._isolation = probe(self.workers.isolation)
                for message in isolation_warnings(self._isolation):
                    self.warn(message)
            return self._isolation

    def _runtime_for(self, entry: Function) -> tuple[Interpreter, RuntimeClient]:
        minor = entry.python_version
        if minor not in self._interpreters:
            explicit = self.workers.pythons.get(minor)
            choice = find_interpreter(minor, explicit=explicit)
            interpreter = choice.interpreter
            if not choice.exact:
                why = (
                    f"the interpreter given for {minor} is another version"
                    if explicit is not None
                    else f"no Python {minor} was found on this machine (install it, e.g. "
                    f"`uv python install {minor}`)"
                )
                self.warn(
                    f"{entry.runtime} functions run on Python {interpreter.version} "
                    f"({interpreter.path}): {why}; bytecode and compiled extensions built for "
                    f"{minor} will not load"
                )
            client = runtime_client(
                interpreter,
                self.cache_dir,
                self.workers.runtime_client,
                on_install=self.listeners.on_progress,
            )
            if client.note:
                self.warn(client.note)
            self._interpreters[minor] = (interpreter, client)
        return self._interpreters[minor]

    def _for_this_machine(self, entry: Function, interpreter: Interpreter) -> Function:
        """`entry`, or the same function built for this machine's architecture.

        An arm64 zip's extension modules cannot load on x86_64 (nor the reverse); the bundler
        builds the same code and locked versions for this machine into its cache instead.
        """
        architecture = architecture_of_machine(interpreter.machine)
        machine = architecture or interpreter.machine
        if machine == entry.architecture:
            return entry
        if self.workers.host_builds and architecture is not None:
            from lambdapress.bundle.local import host_variant

            try:
                local = host_variant(self.root, entry, architecture, cache=self.cache_dir)
            except LambdapressError as error:
                self.warn(
                    f"{entry.name} is built for {entry.architecture} and this machine is "
                    f"{platform.machine()}; no local build could be made ({error.message}): "
                    "compiled extensions in its artifact will not load here"
                )
                return entry
            self.warn(
                f"{entry.name} is built for {entry.architecture}; this machine is "
                f"{platform.machine()}, so it runs a {machine} build of the same code and "
                "locked versions here"
            )
            return local
        self.warn(
            f"{entry.name} is built for {entry.architecture} but this machine is "
            f"{platform.machine()}: compiled extensions in its artifact will not load here"
        )
        return entry

    def warn(self, message: str) -> None:
        """Report something that makes runs less faithful, once per message."""
        with self._lock:
            if message in self._warned:
                return
            self._warned.add(message)
        if self.listeners.on_warning is not None:
            self.listeners.on_warning(message)
        else:
            warnings.warn(message, EmulatorWarning, stacklevel=3)

    def reload(self, manifest: Application) -> list[str]:
        """Switch to a new build; return the functions that changed, were added or were removed.

        Functions whose entry changed (new artifact, settings) get fresh workers; in-flight
        invocations finish on the old ones.
        """
        for entry in manifest.functions:
            check_environment(entry)
        with self._lock:
            old = {entry.name: entry for entry in self._manifest.functions}
            new = {entry.name: entry for entry in manifest.functions}
            changed = sorted(
                name for name in old.keys() | new.keys() if old.get(name) != new.get(name)
            )
            self._manifest = manifest
            stale = [self._pools.pop(name) for name in changed if name in self._pools]
            self._retired = [p for p in self._retired if p.stats().workers] + stale
        for pool in stale:
            pool.close(force=False)
        return changed

    def stats(self) -> list[PoolStats]:
        """One row per function that has run, sorted by name."""
        with self._lock:
            pools = sorted(self._pools.values(), key=lambda pool: pool.spec.entry.name)
        return [pool.stats() for pool in pools]

    def recycle_idle(self) -> int:
        """Stop workers idle for longer than the idle timeout; return how many stopped."""
        with self._lock:
            pools = list(self._pools.values())
        return sum(pool.recycle_idle() for pool in pools)

    def _start_janitor(self) -> None:
        if self._janitor is None:
            self._janitor = threading.Thread(
                target=self._sweep, name=self.janitor_name, daemon=True
            )
            self._janitor.start()

    @property
    def janitor_name(self) -> str:
        """The janitor thread's name, unique to this emulator (a leaked thread says whose it is)."""
        return f"lambdapress-janitor-{id(self):x}"

    def _sweep(self) -> None:
        interval = min(max(self.workers.idle_timeout / 4, 0.05), 30.0)
        while not self._stop.wait(interval):
            self.recycle_idle()

    def close(self) -> None:
        """Stop every worker, server thread and the idle-recycling thread; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pools = list(self._pools.values()) + self._retired
            self._pools, self._retired = {}, []
        self._stop.set()
        if self._janitor is not None:
            self._janitor.join()
        for pool in pools:
            pool.close(force=True)
        self._workdir.cleanup()
