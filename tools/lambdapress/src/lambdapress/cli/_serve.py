"""`lambdapress invoke` and `lambdapress serve`: the emulator's commands (the only printing).

    lambdapress invoke orders.get_order --event event.json     # or --event - for stdin
    lambdapress invoke orders.get_order --http GET /orders/42  # an HTTP API event for it
    lambdapress invoke orders.get_order --sample               # its first trigger's sample event
    lambdapress serve --port 3000                               # curl 127.0.0.1:3000/orders/42

`invoke` prints Lambda's log lines (INIT_START, START, END, REPORT) on stderr and the response
on stdout, so `> response.json` keeps only the payload. With `--times N` the same emulator runs
it N times and prints a cold/warm table. The exit status is 1 when any invocation failed (with
an `error:` line saying how many and the first failure, and a `fix:` line when the failure says
the zip lacks something), 0 when all succeeded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from lambdapress.cli._args import (
    MAX_PORT,
    Subcommands,
    add_root_and_manifest,
    bounded_int,
    positive_int,
    positive_seconds,
    root_and_manifest,
)
from lambdapress.cli._console import print_table, steps
from lambdapress.cli._events import INVOKE_API, events_server, stage_names
from lambdapress.emulator.context import lambda_name
from lambdapress.emulator.core import Emulator, Listeners, WorkerOptions
from lambdapress.emulator.http_api import AccessRecord
from lambdapress.emulator.reports import InvocationResult
from lambdapress.emulator.servers import CLIENT_TIMEOUT
from lambdapress.emulator.serving import (
    Rebuild,
    ReloadRecord,
    ServeOptions,
    hold_serve_lock,
    serve,
)
from lambdapress.errors import EmulatorError
from lambdapress.model.application import Application, Function
from lambdapress.model.manifest import read_manifest
from lambdapress.model.trigger_kinds import LocalSource, sample_event
from lambdapress.storage.config_values import missing_values
from lambdapress.storage.environment import StorageEnvironment, local_storage_environment
from lambdapress.storage.events_server import EventsServer
from lambdapress.support.server_lock import ServerLock
from lambdapress.triggers.http import request_event

_print_lock = threading.Lock()


def register(commands: Subcommands) -> None:
    """Add `invoke` and `serve` to the `lambdapress` command line."""
    invoke = commands.add_parser(
        "invoke",
        help="run one function's artifact locally, as Lambda does",
        description="Invoke a function from dist/manifest.json under the official runtime "
        "client: the response on stdout, Lambda's log lines on stderr.",
    )
    invoke.add_argument("name", metavar="FUNCTION", help="function name, e.g. orders.get_order")
    event = invoke.add_mutually_exclusive_group()
    event.add_argument(
        "--event", metavar="FILE", help="JSON event file, or - for stdin (default: the event {})"
    )
    event.add_argument(
        "--http",
        nargs=2,
        metavar=("METHOD", "PATH"),
        help="instead of --event: an API Gateway HTTP API event, e.g. --http GET /orders/42",
    )
    event.add_argument(
        "--sample",
        action="store_true",
        help="instead of --event: a sample event of the function's first trigger (an HTTP "
        "API request to its first route...), as bench sends",
    )
    invoke.add_argument("--body", metavar="TEXT", help="request body for --http")
    invoke.add_argument(
        "--times",
        type=positive_int,
        default=1,
        metavar="N",
        help="invoke N times on the same container",
    )
    _common(invoke)
    invoke.set_defaults(handler=_cmd_invoke)

    serve_parser = commands.add_parser(
        "serve",
        help="serve every routed function over HTTP, as API Gateway would",
        description="A local API Gateway HTTP API (payload 2.0), a local source for every other "
        "kind of trigger the build has, and the Lambda Invoke API in front of the built "
        "artifacts; rebuilds and restarts functions when their sources change.",
    )
    serve_parser.add_argument(
        "--port",
        type=bounded_int(0, MAX_PORT),
        default=3000,
        metavar="PORT",
        help="HTTP API port (0: any free one)",
    )
    serve_parser.add_argument(
        "--lambda-port",
        type=bounded_int(-1, MAX_PORT),
        default=3001,
        metavar="PORT",
        help="Invoke API port for boto3's endpoint_url (0: any free one; -1 turns it off)",
    )
    serve_parser.add_argument(
        "--concurrency",
        type=bounded_int(1, 1000),
        default=10,
        metavar="N",
        help="workers per function at most",
    )
    serve_parser.add_argument(
        "--idle-timeout",
        type=positive_seconds,
        default=300.0,
        metavar="SECONDS",
        help="seconds before an idle worker stops",
    )
    serve_parser.add_argument(
        "--client-timeout",
        type=positive_seconds,
        default=CLIENT_TIMEOUT,
        metavar="SECONDS",
        help="drop a client that stalls while sending its request",
    )
    serve_parser.add_argument("--no-watch", action="store_true", help="do not watch for changes")
    _common(serve_parser)
    serve_parser.set_defaults(handler=_cmd_serve)


def _common(parser: argparse.ArgumentParser) -> None:
    add_root_and_manifest(parser, "run from")


def _locate(args: argparse.Namespace) -> tuple[Path, Path]:
    return root_and_manifest(args)


def _warn(message: str) -> None:
    _note(f"warning: {message}")


def _note(line: str) -> None:
    """A line on stderr while serving: requests are printed from several threads at once."""
    with _print_lock:
        print(line, file=sys.stderr, flush=True)


def _read_event(source: str | None, stdin: TextIO) -> bytes:
    if source is None:
        return b"{}"
    try:
        text = stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise EmulatorError(
            f"cannot read the event: {exc.strerror}", path=Path(source), hint="pass a JSON file"
        ) from None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        where = Path("<stdin>") if source == "-" else Path(source)
        raise EmulatorError(
            f"the event is not JSON: {exc.msg}", path=where, line=exc.lineno,
            hint="an event is one JSON value, e.g. {\"key\": \"value\"}",
        ) from None  # fmt: skip
    return text.encode()


def _function(manifest: Application, name: str) -> Function | None:
    """The function `name` names (its manifest or its Lambda name), if there is one."""
    return next((f for f in manifest.functions if name in (f.name, lambda_name(f.name))), None)


def _http_event(
    manifest: Application, name: str, method: str, path: str, body: str | None
) -> bytes:
    """A payload 2.0 event for the route of `name` that `method path` matches."""
    entry = _function(manifest, name)
    if entry is None:
        raise EmulatorError(
            f"{method.upper()} {path} matches no route of {name}", hint="check the function name"
        )
    return json.dumps(request_event(entry, method, path, body)).encode()


def _sample_event(manifest: Application, name: str) -> bytes:
    """The sample event of the first trigger of `name` (`{}` when nothing triggers it)."""
    entry = _function(manifest, name)
    return json.dumps(sample_event(entry) if entry is not None else {}).encode()


def _cmd_invoke(args: argparse.Namespace) -> int:
    root, manifest_file = _locate(args)
    manifest = read_manifest(manifest_file)
    if args.http is not None:
        payload = _http_event(manifest, args.name, args.http[0], args.http[1], args.body)
    elif args.sample:
        payload = _sample_event(manifest, args.name)
    else:
        payload = _read_event(args.event, sys.stdin)
    results: list[InvocationResult] = []
    # The display shows the runtime client's first install, the only slow part of a first run.
    with steps("invoke") as display:

        def warn(message: str) -> None:
            display.say(f"warning: {message}")

        listeners = Listeners(on_warning=warn, on_progress=display.note)
        with _one_off_emulator(root, manifest, args.name, listeners) as emulator:
            for _ in range(args.times):
                result = emulator.invoke(args.name, payload=payload)
                results.append(result)
                if result.logs:
                    display.say(result.readable_logs().rstrip("\n"))
    last = results[-1]
    print(_pretty(last.payload))
    if args.times > 1:
        _print_report_table(results)
    return _invoke_status(results)


def _one_off_emulator(
    root: Path, manifest: Application, name: str, listeners: Listeners
) -> Emulator:
    """An emulator for `invoke` (and `trigger`): its service's storage and `db`'s events server.

    An EmulatorError when the function's service keeps data nothing local serves.
    """
    storage = _storage(root, manifest)
    service = _service_of(manifest, name)
    if service in storage.missing:
        raise EmulatorError(storage.missing[service], hint="start `nox -s db`, then invoke again")
    events = events_server(root, manifest, own=False)
    _check_values(root, manifest, events, {service} if service is not None else set())
    return Emulator(
        manifest,
        root,
        listeners=listeners,
        storage=storage.variables,
        events=events.endpoint if events is not None else None,
    )


def run_once(root: Path, manifest: Application, name: str, payload: bytes) -> InvocationResult:
    """Invoke `name` once in a new emulator, its logs on stderr (`lambdapress trigger`)."""
    with steps("trigger") as display:
        listeners = Listeners(
            on_warning=lambda message: display.say(f"warning: {message}"),
            on_progress=display.note,
        )
        with _one_off_emulator(root, manifest, name, listeners) as emulator:
            result = emulator.invoke(name, payload=payload)
            if result.logs:
                display.say(result.readable_logs().rstrip("\n"))
    return result


def _invoke_status(results: list[InvocationResult]) -> int:
    """0 when every invocation succeeded; else 1, after saying how many failed and why."""
    failed = [(number, r) for number, r in enumerate(results, start=1) if r.error is not None]
    if not failed:
        return 0
    number, first = failed[0]
    error = first.error
    assert error is not None
    summary = error.error_type
    if error.message:
        summary += f": {error.message.splitlines()[0]}"
    if len(results) == 1:
        print(f"error: {first.function} failed ({summary})", file=sys.stderr)
    else:
        print(
            f"error: {len(failed)} of {len(results)} invocations of {first.function} failed; "
            f"the first, #{number}: {summary}",
            file=sys.stderr,
        )
    if first.hint is not None:
        print(f"  fix: {first.hint}", file=sys.stderr)
    return 1


def _storage(root: Path, manifest: Application) -> StorageEnvironment:
    """Where each service's data lives: the running `lambdapress db`, or the caller's settings."""
    return local_storage_environment(
        manifest, root, {entry.service for entry in manifest.functions}
    )


def _check_values(
    root: Path, manifest: Application, events: EventsServer | None, services: set[str]
) -> None:
    """Before the first request: every secret and parameter `services` read has a local value.

    Otherwise a ConfigError naming each one and where to add it (`storage.config_values`); a
    server we started is stopped first.
    """
    endpoint = events.endpoint if events is not None else None
    problem = missing_values(endpoint, manifest, services, stage_names(root).project)
    if problem is not None:
        if events is not None:
            events.close()
        raise problem


def _service_of(manifest: Application, name: str) -> str | None:
    entry = _function(manifest, name)
    return entry.service if entry is not None else None


def _pretty(payload: bytes) -> str:
    try:
        return json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
    except ValueError:
        return payload.decode(errors="replace")


def _print_report_table(results: list[InvocationResult]) -> None:
    rows: list[list[Any]] = []
    for index, result in enumerate(results, start=1):
        report = result.report
        init = f"{report.init_duration_ms:.2f}" if report.init_duration_ms is not None else ""
        rows.append(
            [
                index,
                result.worker_id,
                "cold" if report.cold else "warm",
                init,
                f"{report.duration_ms:.2f}",
                report.billed_duration_ms,
                report.max_memory_used_mb,
                report.status,
            ]
        )
    headers = ["#", "worker", "start", "init ms", "duration ms", "billed ms", "max MB", "status"]
    print_table(headers, rows, file=sys.stderr)


def _cmd_serve(args: argparse.Namespace) -> int:
    root, manifest_file = _locate(args)
    with hold_serve_lock(root) as lock:  # first: a second serve is refused before any work
        return _serve_locked(args, root, manifest_file, lock)


def _serve_locked(
    args: argparse.Namespace, root: Path, manifest_file: Path, lock: ServerLock
) -> int:
    manifest = read_manifest(manifest_file)
    # tools/: workspace libraries a handler may ship (lambdapress-runtime in this repository).
    watch = [p for p in (root / "services", root / "packages", root / "tools") if p.is_dir()]
    # Without sources to watch (a folder of built zips only), follow the manifest file instead.
    rebuild: Rebuild | None = None
    if watch and not args.no_watch:
        # The emulator sits above the bundler (see the layer map): it imports it, lazily, as
        # it does for host builds in `core`, so `invoke` does not load the bundler.
        from lambdapress.bundle.pipeline import rebuilder

        rebuild = rebuilder(root)
    storage = _storage(root, manifest)
    for message in storage.missing.values():
        _warn(message)
    events = events_server(root, manifest, own=True, say=_note)
    _check_values(root, manifest, events, {entry.service for entry in manifest.functions})
    emulator = Emulator(
        manifest,
        root,
        workers=WorkerOptions(concurrency=args.concurrency, idle_timeout=args.idle_timeout),
        listeners=Listeners(on_warning=_warn, on_progress=_note),
        storage=storage.variables,
        events=events.endpoint if events is not None else None,
    )
    listening: dict[str, str] = {}

    def on_reload(record: ReloadRecord) -> None:
        if events is not None and record.error is None:
            try:  # a rebuild's new queues, topics...: before its sources look for them
                events.ensure(emulator.manifest)
            except Exception as error:  # reported; the sources say what they miss
                _warn(f"the rebuild's event resources could not be created: {error}")
        _print_reload(record)
        if record.started:
            _describe(lock, listening, record.started)

    with events or contextlib.nullcontext(), emulator:
        options = ServeOptions(
            port=args.port,
            lambda_port=None if args.lambda_port < 0 else args.lambda_port,
            rebuild=rebuild,
            watch=watch,
            manifest_file=None if args.no_watch else manifest_file,
            on_delivery=_print_delivery,
            on_reload=on_reload,
            client_timeout=args.client_timeout,
        )
        serving = serve(emulator, options)
        with serving:
            print(f"{len(manifest.functions)} functions from {manifest_file}")
            rows = trigger_rows(manifest)
            if rows:
                print_table(["kind", "trigger", "function"], rows)
            else:
                print("(no triggers)")
            listening[INVOKE_API] = serving.lambda_url or "off"
            _describe(lock, listening, tuple(serving.sources.values()))
            for source in serving.sources.values():
                _print_source(source)
            if events is not None:
                whose = "lambdapress db's" if events.server is None else "serve's own, in memory"
                print(f"{'Events:':<11} {events.endpoint.url}  (moto: {whose})")
            if serving.lambda_url:
                print(f"Invoke API: {serving.lambda_url}  (boto3 endpoint_url, or "
                      f"AWS_ENDPOINT_URL_LAMBDA={serving.lambda_url})")  # fmt: skip
            if serving.watcher is not None:
                what = "sources" if rebuild is not None else manifest_file.name
                print(f"watching {what} for changes; Ctrl-C stops")
            sys.stdout.flush()
            _wait_for_interrupt()
    return 0


def trigger_rows(manifest: Application) -> list[list[str]]:
    """What `serve` lists: each function's triggers, of every kind, by their labels.

    `http GET /orders/{id}`, `sqs workers/order-placed`, `schedule rate(5 minutes)`...: each
    kind's own `label`, sorted by kind, label and function.
    """
    return sorted(
        [trigger.kind, trigger.label, function.name]
        for function in manifest.functions
        for trigger in function.triggers
    )


def _describe(
    lock: ServerLock, listening: dict[str, str], started: tuple[LocalSource, ...]
) -> None:
    """Say in the serve lock where each local source (and the Invoke API) listens."""
    listening.update({s.name: s.url for s in started if s.url is not None})
    lock.describe(**listening)


def _print_source(source: LocalSource) -> None:
    """`HTTP API:   http://127.0.0.1:3000`, aligned with the Invoke API's line."""
    print(f"{source.name + ':':<11} {source.url or '(started)'}")


def _wait_for_interrupt() -> None:
    """Sleep until SIGINT or SIGTERM.

    `main()`'s handlers raise Interrupted here, and the `with` blocks around the call stop the
    servers and the workers on the way out.
    """
    forever = threading.Event()
    while not forever.wait(3600):
        pass


def _print_delivery(record: object) -> None:
    """One delivery of a local source: an HTTP request in detail, any other as it says."""
    if isinstance(record, AccessRecord):
        _print_request(record)
        return
    with _print_lock:
        print(record)
        result = getattr(record, "result", None)
        if isinstance(result, InvocationResult):  # an event source's delivery: its logs
            print(_indent(result.readable_logs()), end="")
        sys.stdout.flush()


def _print_request(record: AccessRecord) -> None:
    details = []
    if record.function:
        details.append(record.function)
    if record.result is not None:
        report = record.result.report
        details.append(f"{report.duration_ms:.1f} ms")
        if report.init_duration_ms is not None:
            details.append(f"cold start, init {report.init_duration_ms:.1f} ms")
        if record.result.error is not None:
            details.append(f"{record.result.error.error_type}: {record.result.error.message}")
            if record.result.hint is not None:
                details.append(f"fix: {record.result.hint}")
    if record.problem:
        details.append(record.problem)
    with _print_lock:
        print(f"{record.method} {record.path} -> {record.status}  ({'; '.join(details)})")
        if record.result is not None:
            print(_indent(record.result.readable_logs()), end="")
        sys.stdout.flush()


def _print_reload(record: ReloadRecord) -> None:
    with _print_lock:
        if record.error is not None:
            print(f"rebuild failed, still serving the previous build:\n{_indent(record.error)}")
        elif record.functions:
            print(f"rebuilt; restarted {', '.join(record.functions)}")
        else:
            print("rebuilt; no function changed")
        for source in record.started:
            _print_source(source)
        sys.stdout.flush()


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())
