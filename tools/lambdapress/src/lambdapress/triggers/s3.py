"""S3 object events: objects created (or removed...) in a bucket run the function.

Declared in the handler module (`lambdapress_runtime.triggers`):

    from lambdapress_runtime import triggers

    REPORTS = triggers.Bucket("reports")            # this function reads and writes its objects
                                                    # (REPORTS.bucket_name: REPORTS_BUCKET_NAME)

    @triggers.s3("uploads", events=["s3:ObjectCreated:*"], prefix="in/", suffix=".csv")
    def handler(event, context): ...

Each bucket is declared by its service's pyproject, `[tool.lambdapress.buckets.uploads]`; code
names it `uploads` in that service, `imports/uploads` in another. Its name in the account is the
deploy's (`<project>-<stage>-<service>-<name>` and a short stable suffix: bucket names are
global), which the function reads from its variable.

Checked at package time, with the file, the line and the fix: the bucket is declared (the
trigger's and each `Bucket`'s); each event is one S3 sends (`config.event_rules.S3_EVENTS`);
prefix and suffix hold no `*` (S3 filters match literally); no two triggers on one bucket could
match one object for one event type (S3 refuses such overlapping notification configurations:
`s3:ObjectCreated:*` under `in/` and `s3:ObjectCreated:Put` under `in/big/` do).

Permissions: the consumer reads the objects under its prefix (`s3:GetObject` on
`<bucket>/<prefix>*`); a `Bucket` handle lets its function get, put and delete the bucket's
objects and list it. Rendered by deploy (the bucket's notification configuration), delivered
locally on moto's server, sampled by the emulator (`_event_kind`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from lambdapress.config.event_rules import S3_EVENTS, s3_events_overlap, s3_filters_overlap
from lambdapress.errors import BundleError
from lambdapress.model.permissions import Permission, objects_ref, resource_ref
from lambdapress.model.trigger_kinds import CheckContext, Declared, HandlerSource, Used
from lambdapress.model.triggers import S3Trigger
from lambdapress.triggers._declarations import declarations
from lambdapress.triggers._event_kind import EventKind
from lambdapress.triggers._references import (
    check_uses,
    declared_resource,
    handle_uses,
    resource_id,
    trigger,
)

CONSUMER_ACTIONS: Final = ("s3:GetObject",)
OBJECT_ACTIONS: Final = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
BUCKET_ACTIONS: Final = ("s3:ListBucket",)


class S3Kind(EventKind[S3Trigger]):
    """S3 object events (module doc)."""

    model = S3Trigger

    def discover(self, source: HandlerSource) -> tuple[Declared[S3Trigger], ...]:
        """The handler's `@triggers.s3(...)`, each naming its bucket by id."""
        found: list[Declared[S3Trigger]] = []
        for decoration in declarations(source).of("s3"):
            values = dict(decoration.arguments)
            values["bucket"] = resource_id(
                source, values["bucket"], "s3-bucket", decoration.line, "the bucket of @triggers.s3"
            )
            found.append(trigger(source, S3Trigger, decoration, values))
        return tuple(found)

    def uses(self, source: HandlerSource) -> tuple[Used, ...]:
        """Each `triggers.Bucket("name")`: the function reads and writes the bucket's objects."""
        return handle_uses(source, self.name, "Bucket", "s3-bucket", _reads_and_writes)

    def check(self, declared: Sequence[Declared[S3Trigger]], context: CheckContext) -> None:
        """Declared buckets, S3's event names and literal filters, no two overlapping."""
        check_uses(context, self.name, "Bucket")
        for found in declared:
            declared_resource(context, found.trigger.bucket, found.path, found.line, "@triggers.s3")
            _check_events(found)
        _check_overlaps(declared)

    def permissions(self, function: str, trigger: S3Trigger) -> tuple[Permission, ...]:
        """Reading the objects the trigger reports, under its prefix only."""
        return (
            Permission(
                actions=CONSUMER_ACTIONS,
                resources=(objects_ref(trigger.bucket, f"{trigger.prefix}*"),),
                reason=f"reads the objects {trigger.bucket} reports under {trigger.prefix!r}",
            ),
        )


KIND = S3Kind()


def _reads_and_writes(resource: str, where: str) -> tuple[Permission, ...]:
    reason = f"uses {resource} ({where})"
    return (
        Permission(actions=OBJECT_ACTIONS, resources=(objects_ref(resource, "*"),), reason=reason),
        Permission(actions=BUCKET_ACTIONS, resources=(resource_ref(resource),), reason=reason),
    )


def _check_events(found: Declared[S3Trigger]) -> None:
    s3 = found.trigger
    if not s3.events:
        raise BundleError(
            "@triggers.s3 has no events: S3 would send nothing",
            path=found.path,
            line=found.line,
            hint='name at least one, e.g. events=["s3:ObjectCreated:*"]',
        )
    for event in s3.events:
        if event not in S3_EVENTS:
            raise BundleError(
                f"@triggers.s3: {event!r} is not an event S3 sends",
                path=found.path,
                line=found.line,
                hint=f"use S3's names: {', '.join(S3_EVENTS)}",
            )
    for name, value in (("prefix", s3.prefix), ("suffix", s3.suffix)):
        if "*" in value:
            raise BundleError(
                f"@triggers.s3 has {name}={value!r}: S3 matches a {name} literally, `*` included",
                path=found.path,
                line=found.line,
                hint=f'write the {name} without wildcards (prefix="in/", suffix=".csv")',
            )


def _check_overlaps(declared: Sequence[Declared[S3Trigger]]) -> None:
    """No two triggers on one bucket could match one object for one event type."""
    for index, found in enumerate(declared):
        s3 = found.trigger
        for other in declared[:index]:
            earlier = other.trigger
            if earlier.bucket != s3.bucket:
                continue
            events = s3_events_overlap(s3.events, earlier.events)
            filters = ((s3.prefix, s3.suffix), (earlier.prefix, earlier.suffix))
            if events is None or not s3_filters_overlap(*filters):
                continue
            raise BundleError(
                f"@triggers.s3 on {s3.bucket} ({events[0]}, prefix {s3.prefix!r}, suffix "
                f"{s3.suffix!r}) could match the same objects as the trigger at "
                f"{other.path}:{other.line} ({earlier.label}, {events[1]}): S3 refuses "
                "overlapping notifications for one event type",
                path=found.path,
                line=found.line,
                hint="give the two prefixes (or suffixes) that do not start (or end) one "
                "another, or different event types, or handle both in one function",
            )
