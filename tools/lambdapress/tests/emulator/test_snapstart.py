"""SnapStart under the emulator: awslambdaric runs the hooks, as on Lambda.

A SnapStart function's worker starts with `AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`, so the
real runtime client runs the before-snapshot hooks after init, asks the Runtime API for
`/restore/next` and runs the after-restore hooks before its first invocation. The artifact
ships `lambdapress_runtime` (its source, as the bundler ships a workspace member), so the test
sees the container's own hooks close its per-container resource and reseed `random`.
"""

from __future__ import annotations

from pathlib import Path

import lambdapress_runtime
from lambdapress.model.application import Capacity

from .conftest import EmulatorFactory, Repo, entry_for

HANDLER = """
import os
import random

import snapshot_restore_py  # awslambdaric's, on the worker's path as on Lambda

from lambdapress_runtime import Container

container = Container()
events = []
snapshot_restore_py.register_before_snapshot(lambda: events.append("before_snapshot"))
snapshot_restore_py.register_after_restore(lambda: events.append("after_restore"))


@container.per_container
def connection():
    events.append("open")
    yield "connection"
    events.append("close")


connection.get()  # init opens it, as a module-level warm-up would
random.seed(1)  # a seed fixed during init: every restored copy would share it
FIXED = random.random()
random.seed(1)


@container.handler
def handler(event, context):
    connection.get()
    return {
        "events": events,
        "initialization": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
        "hooks": container.snapstart,
        "reseeded": random.random() != FIXED,
    }
"""


def _artifact(repo: Repo) -> Path:
    runtime = Path(lambdapress_runtime.__file__).parent
    files = {f"lambdapress_runtime/{p.name}": p.read_text() for p in runtime.glob("*.py")}
    return repo.artifact("snap", {"snap.py": HANDLER, **files})


def test_a_snapstart_function_runs_its_hooks_between_init_and_the_first_invocation(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    artifact = _artifact(repo)
    snap = entry_for(repo.root, artifact, "demo.snap", "snap.handler", timeout=10)
    snap = snap.model_copy(update={"capacity": Capacity(snapstart=True)})
    cold = entry_for(repo.root, artifact, "demo.cold", "snap.handler", timeout=10)
    emulator = make_emulator(repo.manifest(snap, cold), repo.root, concurrency=1)

    first = emulator.invoke("demo.snap", {})
    assert first.ok, first.logs
    assert first.response == {
        "events": ["open", "before_snapshot", "close", "after_restore", "open"],
        "initialization": "snap-start",
        "hooks": True,
        "reseeded": True,
    }
    assert '"event": "after_restore"' in first.logs  # the runtime's own log line
    second = emulator.invoke("demo.snap", {})
    assert second.response["events"] == first.response["events"]  # warm: nothing reopened

    on_demand = emulator.invoke("demo.cold", {})
    assert on_demand.ok, on_demand.logs
    assert on_demand.response == {
        "events": ["open"],  # registered, never run: no snapshot was taken
        "initialization": "on-demand",
        "hooks": True,
        "reseeded": False,
    }
