"""`lambdapress deploy`, `sync` and `destroy`: arguments, the plan, confirmation, progress.

The plan is a table; progress is a live display on a terminal, one line per event in CI.

Each command builds first (the bundler is incremental: an unchanged function costs a stat),
unless `--no-build` says dist/ is already what should ship (a pipeline that packaged in an
earlier step).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from lambdapress.cli._args import Subcommands, add_root, bounded_int, root_of
from lambdapress.cli._console import Steps, print_table, steps
from lambdapress.errors import DeployError

if TYPE_CHECKING:
    from lambdapress.bundle import Progress
    from lambdapress.deploy.aws import StackEvent, StackResource
    from lambdapress.deploy.deploying import DeployPlan
    from lambdapress.deploy.destroying import DestroyPlan
    from lambdapress.deploy.syncing import SyncTarget
    from lambdapress.deploy.target import Target
    from lambdapress.deploy.upload import Artifact, UploadPlan

# The library (and boto3 with it) is imported inside each command: the other commands of
# `lambdapress` never pay for loading it.

_ACTIONS = {"Add": "add", "Modify": "modify", "Remove": "remove", "Import": "import"}


def register(commands: Subcommands) -> None:
    """Add `deploy`, `sync` and `destroy` to the `lambdapress` command line."""
    deploy = commands.add_parser(
        "deploy",
        help="deploy a stage to AWS through a CloudFormation change set",
        description="Build, upload the zips the artifact bucket lacks, create a change set for "
        "stack <project>-<stage>, print the plan and execute it after confirmation.",
    )
    _stage_options(deploy)
    deploy.add_argument("--plan", action="store_true", help="print the plan only; change nothing")
    deploy.add_argument("--yes", action="store_true", help="execute without asking (CI)")
    deploy.set_defaults(handler=_cmd_deploy)

    sync = commands.add_parser(
        "sync",
        help="update only the functions whose code changed (development stages)",
        description="UpdateFunctionCode for every function whose code alone changed since the "
        "last deploy; refuses when anything else in the stack would change.",
    )
    _stage_options(sync)
    sync.set_defaults(handler=_cmd_sync)

    destroy = commands.add_parser(
        "destroy",
        help="delete a stage's stack (and, if asked, the artifact bucket)",
        description="Delete stack <project>-<stage> and wait until it is gone. The artifact "
        "bucket is kept unless --with-bucket and it holds only lambdapress's objects.",
    )
    destroy.add_argument("--stage", required=True, metavar="NAME", help="the stage to delete")
    destroy.add_argument(
        "--with-bucket", action="store_true", help="also delete the artifact bucket"
    )
    destroy.add_argument(
        "--plan", action="store_true", help="print what would be deleted; delete nothing"
    )
    destroy.add_argument("--yes", action="store_true", help="delete without asking (CI)")
    add_root(destroy)
    destroy.set_defaults(handler=_cmd_destroy)


def _stage_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stage", required=True, metavar="NAME", help="the stage: stack <project>-<stage>"
    )
    parser.add_argument(
        "--no-build", action="store_true", help="ship dist/ as it is (no package step first)"
    )
    parser.add_argument(
        "--jobs", type=bounded_int(1, 64), default=8, metavar="N", help="parallel AWS calls"
    )
    add_root(parser)


# -- deploy -----------------------------------------------------------------------------------
def _cmd_deploy(args: argparse.Namespace) -> int:
    from lambdapress.deploy.deploying import discard_plan, execute_deploy, plan_deploy
    from lambdapress.deploy.target import connect
    from lambdapress.deploy.template_network import network_warnings

    connected = connect(_target(args))
    target = connected.target
    for warning in network_warnings(target.manifest, target.config, target.stage):
        print(f"warning: {warning}", file=sys.stderr)
    with steps("plan") as display:
        display.note(f"creating a change set for {connected.template.stack_name}...")
        plan = plan_deploy(connected, args.jobs)
    if plan.synced:
        print(
            f"{plan.stack_name}: up to date, no changes: {_count(len(plan.synced), 'function')} "
            f"already run the built code that `sync` put in place ({', '.join(plan.synced)}); "
            "nothing uploaded or executed"
        )
        return 0
    if plan.up_to_date:
        print(f"{plan.stack_name}: up to date (nothing to change, nothing uploaded)")
        return 0
    _print_plan(plan)
    _print_rollouts(connected.target)
    if args.plan:
        discard_plan(connected, plan)
        print("plan only: the change set was deleted, nothing was uploaded or changed")
        return 0
    try:
        confirmed = _confirm(f"execute this change set on {plan.stack_name}?", args.yes)
    except BaseException:  # refused without a terminal, or Ctrl-C at the question
        discard_plan(connected, plan)
        raise
    if not confirmed:
        discard_plan(connected, plan)
        print("not executed: the change set was deleted")
        return 0
    events: list[StackEvent] = []
    try:
        with steps("deploy") as display:
            show = _event_progress(display, plan)

            def on_event(event: StackEvent) -> None:
                events.append(event)
                show(event)

            outcome = execute_deploy(
                connected, plan, args.jobs, _upload_progress(display), on_event
            )
    except KeyboardInterrupt:
        if events:  # the change set is running: stopping lambdapress does not stop it
            print(
                f"note: CloudFormation goes on with {plan.stack_name} without lambdapress: "
                "its events in the CloudFormation console show how it ends (deploy refuses "
                "to start another change until it has)",
                file=sys.stderr,
            )
        raise
    _print_uploads(plan.uploads)
    print(f"{plan.stack_name}: {outcome.status}")
    for key, value in sorted(outcome.outputs.items()):
        print(f"{key}: {value}")
    return 0


def _print_plan(plan: DeployPlan) -> None:
    verb = "create" if plan.kind == "CREATE" else "update"
    print(f"plan: {verb} stack {plan.stack_name} ({_count(len(plan.changes), 'resource change')})")
    rows = [
        [
            _ACTIONS.get(c.action, c.action.lower()),
            c.logical_id,
            c.resource_type,
            (c.replacement or "unknown") if c.action == "Modify" else "",
        ]
        for c in plan.changes
    ]
    print_table(["action", "resource", "type", "replacement"], rows)
    if plan.code_changes:
        print("\ncode changes:")
        print_table(
            ["function", "lambda function", "deployed", "new"],
            [
                [c.function, c.function_name, c.deployed or "(new)", c.built]
                for c in plan.code_changes
            ],
        )
    elif plan.kind == "UPDATE":
        print("\ncode changes: none")
    missing = plan.uploads.missing
    print(
        f"\nuploads: {len(missing)} of {_count(len(plan.uploads.artifacts), 'zip')} "
        f"({plan.uploads.missing_bytes / 1024:,.1f} KiB) to s3://{plan.uploads.bucket}"
    )


def _print_rollouts(target: Target) -> None:
    """How each function's new version takes traffic, and the alarms it gets."""
    from lambdapress.deploy.rollouts import function_rollouts

    settings = target.config.stage_settings(target.stage)
    kind = "production" if settings.is_production else "not production"
    print(f"\nrollouts on stage {target.stage} ({kind}):")
    print_table(
        ["function", "rollout", "alarms"],
        [
            [
                r.function,
                r.rollout.describe() + (" (traffic hook)" if r.hook else ""),
                ", ".join(r.alarms),
            ]
            for r in function_rollouts(target.manifest, target.config, target.stage)
        ],
    )


def _print_uploads(uploads: UploadPlan) -> None:
    there = len(uploads.artifacts) - len(uploads.missing)
    print(
        f"uploaded {_count(len(uploads.missing), 'zip')}, {there} already in s3://{uploads.bucket}"
    )


# -- sync -------------------------------------------------------------------------------------
def _cmd_sync(args: argparse.Namespace) -> int:
    from lambdapress.deploy.syncing import execute_sync, plan_sync
    from lambdapress.deploy.target import connect

    target = _target(args)
    print(
        "sync is meant for development stages: it changes code behind CloudFormation's back "
        "until the next deploy",
        file=sys.stderr,
    )
    if target.config.stage_settings(target.stage).is_production:
        print(
            f"warning: stage {target.stage!r} is production; use "
            f"`lambdapress deploy --stage {target.stage}` there",
            file=sys.stderr,
        )
    connected = connect(target)
    plan = plan_sync(connected, args.jobs)
    if not plan.functions:
        print(f"{plan.stack_name}: code up to date (nothing to sync)")
        return 0
    with steps("sync") as display:

        def updated(synced: SyncTarget, done: int, total: int) -> None:
            display.step(f"updated {synced.change.function}", done, total)

        execute_sync(connected, plan, args.jobs, _upload_progress(display), updated)
    _print_uploads(plan.uploads)
    print_table(
        ["function", "lambda function", "code sha256"],
        [[t.change.function, t.change.function_name, t.change.built] for t in plan.functions],
    )
    print(f"{plan.stack_name}: code of {_count(len(plan.functions), 'function')} updated")
    return 0


# -- destroy ----------------------------------------------------------------------------------
def _cmd_destroy(args: argparse.Namespace) -> int:
    from lambdapress.deploy.destroying import execute_destroy, load_config, plan_destroy

    config = load_config(root_of(args), args.stage)
    aws, plan = plan_destroy(config, args.stage, args.with_bucket)
    if plan.stack is None and not plan.delete_bucket:
        print(f"{plan.stack_name}: no such stack, nothing to delete")
        return 0
    what = [f"stack {plan.stack_name}"] if plan.stack is not None else []
    what += [f"bucket {plan.bucket} and every object in it"] if plan.delete_bucket else []
    _print_destroy_plan(plan)
    if args.plan:
        kept = f"; bucket {plan.bucket} is kept" if plan.bucket_exists else ""
        print(f"plan only: nothing was deleted{kept if not plan.delete_bucket else ''}")
        return 0
    if not _confirm("delete it?", args.yes):
        print("nothing deleted")
        return 0
    with steps("destroy") as display:
        execute_destroy(aws, plan, _event_progress(display, None))
    print(f"deleted {' and '.join(what)}")
    for resource in plan.kept:
        print(f"kept {_kept(resource)} (DeletionPolicy Retain: delete it yourself when unwanted)")
    if not plan.delete_bucket and plan.bucket_exists:
        print(f"kept bucket {plan.bucket} (--with-bucket deletes it)")
    return 0


def _print_destroy_plan(plan: DestroyPlan) -> None:
    """The stack's resources (all of them go with it) and the bucket, if it goes too."""
    if plan.stack is not None:
        count = _count(len(plan.resources), "resource")
        print(f"plan: delete stack {plan.stack_name} ({plan.stack.status}) and its {count}")
        print_table(
            ["resource", "type", "physical id"],
            [[r.logical_id, r.resource_type, r.physical_id] for r in plan.resources],
        )
        for resource in plan.kept:
            print(f"plan: keep {_kept(resource)}: the template retains it (DeletionPolicy Retain)")
    if plan.delete_bucket:
        print(f"plan: delete bucket {plan.bucket} and its {_count(plan.objects, 'object')}")


def _kept(resource: StackResource) -> str:
    """`table acme-prod-customers-customers (CustomersCustomersTable)`."""
    kind = resource.resource_type.rpartition("::")[2].lower()
    return f"{kind} {resource.physical_id} ({resource.logical_id})"


# -- shared -----------------------------------------------------------------------------------
def _target(args: argparse.Namespace) -> Target:
    """Build first: the bundler skips what is unchanged.

    With --no-build, what dist/manifest.json describes is deployed as it is (a pipeline's
    `package` step built it).
    """
    from lambdapress.bundle import package
    from lambdapress.deploy.destroying import load_config
    from lambdapress.deploy.target import load_target

    root = root_of(args)
    load_config(root, args.stage)  # a bad stage or [tool.lambdapress.deploy]: before any build
    if args.no_build:
        return load_target(root, args.stage)
    with steps("package") as display:
        built = package(root, jobs=min(args.jobs, 8), progress=_build_progress(display))
        for warning in built.warnings:
            display.say(f"warning: {warning}")
    return load_target(root, args.stage, built.manifest)


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


def _confirm(question: str, yes: bool) -> bool:
    """--yes, or a "y" typed on a terminal; without a terminal, a refusal with the fix."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise DeployError(
            "not confirmed: there is no terminal to ask on",
            hint="pass --yes to go ahead without asking (CI), or --plan to only see the plan",
        )
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _build_progress(display: Steps) -> Callable[[Progress], None]:
    def show(event: Progress) -> None:
        if event.kind != "install":
            display.step(f"{event.kind} {event.name}", event.done, event.total)

    return show


def _upload_progress(display: Steps) -> Callable[[Artifact, int, int], None]:
    def show(artifact: Artifact, done: int, total: int) -> None:
        display.step(f"uploaded {artifact.key}", done, total)

    return show


def _event_progress(display: Steps, plan: DeployPlan | None) -> Callable[[StackEvent], None]:
    """Each stack event as a line; resources reaching a final state move the count on."""
    total = len(plan.changes) if plan is not None else 0
    settled: set[str] = set()

    def show(event: StackEvent) -> None:
        line = f"{event.logical_id} {event.status}"
        if event.reason and event.reason != "User Initiated":
            line += f": {event.reason}"
        final = event.status.endswith(("_COMPLETE", "_FAILED"))
        if event.resource_type == "AWS::CloudFormation::Stack" or not final or total == 0:
            display.say(line)
            return
        settled.add(event.logical_id)
        display.step(line, min(len(settled), total), total)

    return show
