"""`lambdapress event` and `lambdapress trigger`: sample events, and a trigger fired now.

    lambdapress event sqs                          # a sample SQS event, for invoke --event -
    lambdapress event sns --function orders.notify # the sample of that function's SNS trigger
    lambdapress trigger jobs.sweep                 # fire its schedule now
    lambdapress trigger workers.consume --kind sqs # invoke it with its SQS trigger's sample

`trigger` goes through the running `serve` of the workspace when there is one (its Invoke API,
found in serve's lock, so the function runs in serve's warm workers, beside its sources), else
through a new emulator, as `invoke` does. Also the events-server wiring `serve` and `invoke`
share (the running `db`'s server, or serve's own).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from lambdapress.cli._args import Subcommands, add_root_and_manifest, root_and_manifest
from lambdapress.config.project import project_name
from lambdapress.emulator.context import lambda_name
from lambdapress.emulator.sample_events import (
    SAMPLE_KINDS,
    sample_event_for,
    sample_event_of_kind,
    with_body,
)
from lambdapress.emulator.serving import LOCK, serve_folder
from lambdapress.errors import EmulatorError, LambdapressError
from lambdapress.model.application import Application, Function
from lambdapress.model.manifest import read_manifest
from lambdapress.model.storage_backends import LOCAL_STAGE, StageNames
from lambdapress.model.triggers import HttpRoute, ScheduleTrigger, Trigger
from lambdapress.storage.events_server import EventsServer, events_for, needs_events
from lambdapress.storage.state import read_state
from lambdapress.support.server_lock import peek

INVOKE_API = "Invoke API"
"""The serve lock's key for the Invoke API's URL (see `_serve`)."""


def register(commands: Subcommands) -> None:
    """Add `event` and `trigger` to the `lambdapress` command line."""
    event = commands.add_parser(
        "event",
        help="print a sample event of a trigger kind (JSON), for invoke --event",
        description="Print a realistic event of KIND as AWS sends it to a function, e.g. "
        "`lambdapress event sqs | lambdapress invoke workers.consume --event -`. With "
        "--function, the sample of that function's trigger of KIND (its queue's ARN, a body "
        "its filter policy accepts, an event its pattern matches...).",
    )
    event.add_argument("kind", metavar="KIND", choices=SAMPLE_KINDS, help=", ".join(SAMPLE_KINDS))
    event.add_argument("--function", metavar="FUNCTION", help="a function of dist/manifest.json")
    event.add_argument(
        "--body",
        metavar="TEXT",
        help="the payload: each SQS record's body, the SNS message, or the EventBridge "
        "detail (a JSON object)",
    )
    _manifest_option(event)
    event.set_defaults(handler=_cmd_event)

    trigger = commands.add_parser(
        "trigger",
        help="fire a function's trigger now (its schedule, or another trigger's sample event)",
        description="Invoke FUNCTION now as its trigger would: a schedule with its input (or "
        "EventBridge's scheduled event), any other trigger with its sample event (`lambdapress "
        "event KIND --function FUNCTION`). Through the running `lambdapress serve` of the "
        "workspace when there is one (its Invoke API), else in a new emulator like `invoke`. "
        "The response is printed on stdout; the exit status is 1 when the function failed.",
    )
    trigger.add_argument("name", metavar="FUNCTION", help="function name, e.g. jobs.sweep")
    trigger.add_argument(
        "--kind",
        metavar="KIND",
        choices=SAMPLE_KINDS,
        help="which of its triggers (default: its first schedule, else its first non-HTTP one)",
    )
    _manifest_option(trigger)
    trigger.set_defaults(handler=_cmd_trigger)


def _manifest_option(parser: argparse.ArgumentParser) -> None:
    add_root_and_manifest(parser, "read")


def _manifest(args: argparse.Namespace) -> tuple[Path, Application]:
    root, manifest = root_and_manifest(args)
    return root, read_manifest(manifest)


def _cmd_event(args: argparse.Namespace) -> int:
    if args.function is None:
        event = sample_event_of_kind(args.kind)
    else:
        _, manifest = _manifest(args)
        function = manifest.function(args.function)
        event = sample_event_for(function, _chosen(function, args.kind))
    if args.body is not None:
        event = with_body(event, args.kind, args.body)
    print(json.dumps(event, indent=2))
    return 0


def _chosen(function: Function, kind: str | None) -> Trigger:
    """The trigger of `function` that `kind` names (module doc for the default)."""
    events = [t for t in function.triggers if not isinstance(t, HttpRoute)]
    if kind is not None:
        events = [t for t in events if t.kind == kind]
    schedules = [t for t in events if isinstance(t, ScheduleTrigger)]
    if kind is None and schedules:
        return schedules[0]
    if not events:
        have = ", ".join(sorted({t.kind for t in function.triggers})) or "none"
        raise EmulatorError(
            f"{function.name} has no {kind or 'event'} trigger (its triggers: {have})",
            hint="pick another --kind, or declare the trigger (@triggers.sqs(...)) and package",
        )
    return events[0]


def _cmd_trigger(args: argparse.Namespace) -> int:
    root, manifest = _manifest(args)
    function = manifest.function(args.name)
    payload = json.dumps(sample_event_for(function, _chosen(function, args.kind))).encode()
    url = serve_invoke_api(root)
    if url is not None:
        print(f"fired through lambdapress serve ({url})", file=sys.stderr)
        body, failed = _through_serve(url, function, payload)
    else:
        body, failed = _in_new_emulator(root, manifest, function, payload)
    try:
        print(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    except ValueError:
        print(body.decode(errors="replace"))
    if failed:
        print(f"error: {function.name} failed", file=sys.stderr)
    return 1 if failed else 0


def serve_invoke_api(root: Path) -> str | None:
    """The Invoke API of the workspace's running `serve`, if one runs with it on."""
    holder = peek(serve_folder(root), LOCK)
    url = holder.details.get(INVOKE_API)
    return url if holder.alive and url and url.startswith("http://") else None


def _through_serve(url: str, function: Function, payload: bytes) -> tuple[bytes, bool]:
    request = urllib.request.Request(  # noqa: S310 (serve's http:// URL on 127.0.0.1)
        f"{url}/2015-03-31/functions/{lambda_name(function.name)}/invocations",
        data=payload,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        # An http:// URL on 127.0.0.1 that serve wrote in its lock: no other scheme reaches here.
        with urllib.request.urlopen(request, timeout=function.timeout + 60) as answer:  # noqa: S310
            return answer.read(), bool(answer.headers.get("X-Amz-Function-Error"))
    except (urllib.error.URLError, OSError) as exc:
        raise EmulatorError(
            f"the running lambdapress serve did not answer at {url}: {exc}",
            hint="check that serve is still running (Ctrl-C it and start it again if stuck)",
        ) from None


def _in_new_emulator(
    root: Path, manifest: Application, function: Function, payload: bytes
) -> tuple[bytes, bool]:
    from lambdapress.cli._serve import run_once

    result = run_once(root, manifest, function.name, payload)
    return result.payload, result.error is not None


# -- the events server of serve and invoke ---------------------------------------------------


def stage_names(root: Path) -> StageNames:
    """The project (its configured name, else its folder's) and the local stage."""
    try:
        return StageNames(project_name(root), LOCAL_STAGE)
    except LambdapressError:
        return StageNames(root.name, LOCAL_STAGE)


def events_server(
    root: Path, manifest: Application, *, own: bool, say: Any = None
) -> EventsServer | None:
    """The running `db`'s events server (its resources made), or with `own` a new one of ours.

    None when the build needs none, or (without `own`) no `db` runs one.
    """
    if not needs_events(manifest):
        return None
    state = read_state(root)
    running = state.events if state is not None else None
    if running is None and not own:
        return None
    return events_for(root, manifest, stage_names(root), running, say or (lambda _line: None))
