"""One stack's life through CloudFormation: its state, a change set, following its events.

CloudFormation does the work (ordering, rollback); this module asks it the right questions in
the right order and turns what it answers into a few frozen values and `DeployError`s that
quote the stack's own failure reasons.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from lambdapress.deploy.aws import Aws, ChangeSetState, StackEvent, StackState
from lambdapress.deploy.rollbacks import report, rolled_back
from lambdapress.deploy.template import CAPABILITIES
from lambdapress.errors import DeployError

EventCallback = Callable[[StackEvent], None]
ChangeSetKind = Literal["CREATE", "UPDATE"]
# CloudFormation's answer when a change set would change nothing (the wording differs between
# a template that is identical and one whose differences change no resource).
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
_SUCCEEDED = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
_UPDATABLE = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)
POLL_SECONDS = 3.0


@dataclass(frozen=True)
class Outcome:
    """How an executed change set (or a delete) ended."""

    status: str
    outputs: dict[str, str]


def change_set_kind(stack_name: str, stage: str, state: StackState | None) -> ChangeSetKind:
    """CREATE for a stack that does not exist (or was never executed), UPDATE for a live one.

    Any other state cannot take a change set; the error says what to do about it.
    """
    if state is None or state.in_review:
        return "CREATE"
    if state.status in _UPDATABLE:
        return "UPDATE"
    if state.status == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"stack {stack_name} failed to create and was rolled back: it must be deleted first",
            hint=f"run `lambdapress destroy --stage {stage}`, then deploy again",
        )
    if state.status.endswith("_IN_PROGRESS"):
        raise DeployError(
            f"stack {stack_name} is busy ({state.status})",
            hint="wait until the operation under way finishes, then run the command again",
        )
    raise DeployError(
        f"stack {stack_name} is in state {state.status} and cannot be updated",
        hint="open the stack in the CloudFormation console to resolve it (for "
        "UPDATE_ROLLBACK_FAILED: continue the rollback), then run the command again",
    )


def create_change_set(
    aws: Aws,
    stack_name: str,
    kind: ChangeSetKind,
    template: dict[str, str],
    tags: dict[str, str],
) -> ChangeSetState:
    """Create a change set and wait until CloudFormation has computed it."""
    name = f"lambdapress-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"
    change_set_id = aws.create_change_set(stack_name, name, template, kind, tags, CAPABILITIES)
    return aws.wait_change_set(change_set_id)


def is_empty(change_set: ChangeSetState) -> bool:
    """True when the change set would change nothing: the stack is up to date."""
    if change_set.status == "FAILED":
        return any(marker in change_set.reason for marker in _NO_CHANGES)
    return not change_set.changes


def check_created(change_set: ChangeSetState, stack_name: str) -> None:
    """A change set CloudFormation could not compute is an error quoting its reason."""
    if change_set.status == "FAILED" and not is_empty(change_set):
        raise DeployError(
            f"CloudFormation could not create a change set for {stack_name}: "
            f"{change_set.reason or 'no reason given'}",
            hint="fix the template problem named above (`lambdapress template` writes it), "
            "then deploy again",
        )


def discard(aws: Aws, change_set: ChangeSetState, kind: ChangeSetKind, stack_name: str) -> None:
    """Delete a change set that will not run, and the empty stack a CREATE one made."""
    aws.delete_change_set(change_set.change_set_id)
    if kind == "CREATE":
        state = aws.stack(stack_name)
        if state is not None and state.in_review:  # no resources: nothing else to keep
            aws.delete_stack(state.stack_id)


def execute(
    aws: Aws,
    change_set: ChangeSetState,
    stack_name: str,
    stage: str,
    on_event: EventCallback,
    aliases: Mapping[str, tuple[str, str]] | None = None,
) -> Outcome:
    """Execute the change set and follow the stack's events until it settles.

    A failure or a rollback raises a `DeployError` quoting the reasons CloudFormation gave,
    and, for each function whose gradual rollout CodeDeploy stopped, which alarm did it and
    what it measured (`rollbacks`; `aliases`: each `live` alias's logical id -> its function's
    manifest name and physical name).
    """
    before = aws.stack(stack_name)
    if before is None:
        raise DeployError(f"stack {stack_name} disappeared before its change set ran")
    seen = {event.event_id for event in aws.events(before.stack_id, after=set())}
    aws.execute_change_set(change_set.change_set_id)
    final, events = follow(aws, stack_name, before.stack_id, seen, on_event)
    if final is None or final.status not in _SUCCEEDED:
        status = final.status if final is not None else "DELETED"
        stopped = rolled_back(aws, events, stack_name, aliases or {})
        raise DeployError(
            f"deploying {stack_name} failed ({status})" + failure_reasons(events) + report(stopped),
            hint="fix what the reasons above name, then deploy again"
            + (
                f" (a stack that failed to create must be removed first: `lambdapress destroy "
                f"--stage {stage}`)"
                if status == "ROLLBACK_COMPLETE"
                else ""
            ),
        )
    return Outcome(status=final.status, outputs=final.outputs)


def delete(aws: Aws, stack_name: str, state: StackState, on_event: EventCallback) -> None:
    """Delete the stack and wait until it is gone; a failure quotes CloudFormation's reasons."""
    seen = {event.event_id for event in aws.events(state.stack_id, after=set())}
    aws.delete_stack(state.stack_id)
    final, events = follow(aws, stack_name, state.stack_id, seen, on_event)
    if final is not None:
        raise DeployError(
            f"deleting the stack failed ({final.status})" + failure_reasons(events),
            hint="remove what blocks the deletion (named above), then run destroy again",
        )


def follow(
    aws: Aws, stack_name: str, stack_id: str, seen: set[str], on_event: EventCallback
) -> tuple[StackState | None, list[StackEvent]]:
    """Report each new event until the operation just started is over (or the stack is gone).

    Over means: the stack itself has reported a final status since we started, and is no
    longer in progress. Its status alone would not do: right after ExecuteChangeSet it may
    still show the previous operation's `UPDATE_COMPLETE`.
    """
    fresh: list[StackEvent] = []
    finished = False
    while True:
        state = aws.stack(stack_id)
        for event in aws.events(stack_id, after=seen):
            seen.add(event.event_id)
            fresh.append(event)
            on_event(event)
            if event.logical_id == stack_name and not event.status.endswith("_IN_PROGRESS"):
                finished = True
        if state is None or (finished and not state.status.endswith("_IN_PROGRESS")):
            return state, fresh
        time.sleep(POLL_SECONDS)


def failure_reasons(events: list[StackEvent]) -> str:
    """The resources that failed and why, one per line (the first failure first)."""
    lines = []
    for event in events:
        if not event.status.endswith("_FAILED") or not event.reason:
            continue
        if "cancelled" in event.reason.lower():  # the knock-on effect of an earlier failure
            continue
        line = f"\n  {event.logical_id} ({event.resource_type}): {event.reason}"
        if line not in lines:
            lines.append(line)
    return "".join(lines) if lines else ""
