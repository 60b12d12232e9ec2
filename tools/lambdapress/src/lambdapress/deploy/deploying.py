"""`lambdapress deploy`: plan, then execute.

The plan is a change set, the code that changes and the zips to upload; executing uploads,
runs the change set and follows the stack.

plan:    stack state -> every secret and parameter the template resolves exists -> the
         stage's subnets and security groups exist, in one VPC (when something is placed)
         -> after a `sync`: the template differs only in Code the functions already run:
         up to date, no change set -> CREATE or UPDATE change set -> "up to date" (deleted
         again) or its resource changes + which functions' code changes (CodeSha256 vs
         GetFunction) + which zips the bucket lacks (HEAD)
execute: create the bucket if needed -> upload the missing zips -> execute the change set ->
         follow the events until the stack settles -> its outputs (the API's URL)

Nothing is uploaded before the plan is accepted, and an up-to-date stack costs one change set
that is deleted right away: no upload, nothing executed. A missing secret or parameter stops
the plan before the first change set (a first deploy would otherwise leave a stack behind).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from lambdapress.bundle.transfers import on_daemon_threads as in_parallel
from lambdapress.config.network_settings import NetworkSettings
from lambdapress.deploy import _stack
from lambdapress.deploy._network_checks import check_network
from lambdapress.deploy._references import check_references, template_references
from lambdapress.deploy._stack import ChangeSetKind, EventCallback, Outcome
from lambdapress.deploy._template_diff import code_differences, template_differences
from lambdapress.deploy.aws import ChangeSetState, ResourceChange
from lambdapress.deploy.target import Connected, template_source
from lambdapress.deploy.template_functions import live_alias_id
from lambdapress.deploy.template_network import in_network, proxied
from lambdapress.deploy.upload import UploadPlan, UploadProgress, ensure_bucket, plan_uploads
from lambdapress.deploy.upload import upload as upload_missing


class CodeChange(BaseModel):
    """A function whose deployed code differs from the zip just built."""

    model_config = ConfigDict(frozen=True)

    function: str  # the manifest's name, orders.get_order
    function_name: str  # the physical name in Lambda
    deployed: str | None  # its CodeSha256 now; None: not deployed yet
    built: str  # the manifest's CodeSha256


class DeployPlan(BaseModel):
    """What a deploy would do; `change_set` is None when the stack is up to date."""

    model_config = ConfigDict(frozen=True)

    stack_name: str
    kind: ChangeSetKind
    change_set: ChangeSetState | None
    code_changes: tuple[CodeChange, ...]
    uploads: UploadPlan
    synced: tuple[str, ...] = ()
    """Up to date because `sync` already put the built code in place: those functions."""

    @property
    def up_to_date(self) -> bool:
        """Nothing to change: no change set to execute."""
        return self.change_set is None

    @property
    def changes(self) -> tuple[ResourceChange, ...]:
        """The change set's resource changes (none when up to date)."""
        return self.change_set.changes if self.change_set is not None else ()


def plan_deploy(connected: Connected, jobs: int) -> DeployPlan:
    """Create the change set and work out the rest; CloudFormation's refusal raises."""
    aws, target = connected.aws, connected.target
    name = connected.template.stack_name
    kind = _stack.change_set_kind(name, target.stage, aws.stack(name))
    check_references(aws, template_references(connected.template.body))
    network = _placed_network(connected)
    if network is not None:
        check_network(aws, network, target.stage)
    empty = UploadPlan(bucket=connected.bucket.name, artifacts=connected.artifacts, missing=())
    synced = _synced_code_only(connected, jobs) if kind == "UPDATE" else ()
    if synced:
        return DeployPlan(
            stack_name=name,
            kind=kind,
            change_set=None,
            code_changes=(),
            uploads=empty,
            synced=synced,
        )
    change_set = _stack.create_change_set(aws, name, kind, template_source(connected), target.tags)
    if _stack.is_empty(change_set):
        _stack.discard(aws, change_set, kind, name)
        return DeployPlan(
            stack_name=name, kind=kind, change_set=None, code_changes=(), uploads=empty
        )
    try:
        _stack.check_created(change_set, name)
        code_changes = _code_changes(connected, jobs) if kind == "UPDATE" else ()
        uploads = plan_uploads(aws, connected.bucket, connected.artifacts, jobs)
    except BaseException:
        _stack.discard(aws, change_set, kind, name)
        raise
    return DeployPlan(
        stack_name=name,
        kind=kind,
        change_set=change_set,
        code_changes=code_changes,
        uploads=uploads,
    )


def discard_plan(connected: Connected, plan: DeployPlan) -> None:
    """Delete the plan's change set, and the empty stack a first plan made.

    For `--plan`, or a change set the user declined.
    """
    if plan.change_set is not None:
        _stack.discard(connected.aws, plan.change_set, plan.kind, plan.stack_name)


def execute_deploy(
    connected: Connected,
    plan: DeployPlan,
    jobs: int,
    on_upload: UploadProgress,
    on_event: EventCallback,
) -> Outcome:
    """Upload what is missing, execute the change set, follow the stack until it settles."""
    if plan.change_set is None:
        raise ValueError("an up-to-date plan has nothing to execute")
    aws = connected.aws
    ensure_bucket(aws, connected.bucket, connected.target.config.project)
    try:
        upload_missing(aws, plan.uploads, jobs, on_upload)
    except BaseException:
        # Interrupted or refused: the change set stays unexecuted; remove it, keep the zips
        # already uploaded (the rerun skips them).
        discard_plan(connected, plan)
        raise
    aliases = {
        live_alias_id(f.function): (f.function, f.function_name)
        for f in connected.template.functions
    }
    stage = connected.target.stage
    return _stack.execute(aws, plan.change_set, plan.stack_name, stage, on_event, aliases)


def _placed_network(connected: Connected) -> NetworkSettings | None:
    """The stage's network when something is placed in it (a function, the database proxy)."""
    target = connected.target
    settings = target.config.stage_settings(target.stage)
    if settings.network is None:
        return None
    application = target.manifest
    if proxied(application, settings) or any(
        in_network(application, f, settings) for f in application.functions
    ):
        return settings.network
    return None


def _code_changes(connected: Connected, jobs: int) -> tuple[CodeChange, ...]:
    """The functions whose deployed CodeSha256 differs from the built one (GetFunction)."""
    functions = connected.template.functions
    deployed = in_parallel(lambda f: connected.aws.code_sha256(f.function_name), functions, jobs)
    return tuple(
        CodeChange(function=f.function, function_name=f.function_name, deployed=now, built=f.sha256)
        for f, now in zip(functions, deployed, strict=True)
        if now != f.sha256
    )


def _synced_code_only(connected: Connected, jobs: int) -> tuple[str, ...]:
    """The functions `sync` updated, when they are all the stack would change; else ().

    `sync` updates code behind CloudFormation's back, so the deployed template still names the
    previous zips. When the new template differs from it only in those functions' `Code`, and
    each already runs the built zip (its CodeSha256 is the manifest's), a change set would only
    set the code the functions already run: deploy is a no-op and says so. Identical templates
    are left to CloudFormation's own "no changes" (()).
    """
    functions = connected.template.functions
    code_ids = {f.logical_id for f in functions}
    deployed = connected.aws.template(connected.template.stack_name)
    if template_differences(deployed, connected.template.body, code_ids):
        return ()
    differing = code_differences(deployed, connected.template.body, code_ids)
    targets = [f for f in functions if f.logical_id in differing]
    if not targets:
        return ()
    running = in_parallel(lambda f: connected.aws.code_sha256(f.function_name), targets, jobs)
    if any(now != f.sha256 for f, now in zip(targets, running, strict=True)):
        return ()
    return tuple(f.function for f in targets)
