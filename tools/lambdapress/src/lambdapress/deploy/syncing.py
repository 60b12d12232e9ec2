"""`lambdapress sync`: the development fast path, new code without a CloudFormation update.

plan:    the stack must exist and be settled -> its deployed template (GetTemplate) must equal
         the new one once every function's Code is set aside (anything else: refuse, pointing
         at `deploy`) -> the functions whose CodeSha256 (GetFunction) differs from the manifest
         -> the zips the bucket lacks
execute: upload them -> UpdateFunctionCode from S3, in parallel -> wait until each update is
         over -> check that Lambda's CodeSha256 is the manifest's -> publish it as a version
         and point the `live` alias at it (every invoker calls the alias), at once: sync is
         the development path, a gradual rollout is `deploy`'s

The stack's template keeps naming the old keys until the next `deploy`, which then shows those
functions as modified (and sets the same code again): drift that only a development stage
should carry, which is why sync says so.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from lambdapress.bundle.transfers import on_daemon_threads as in_parallel
from lambdapress.deploy._template_diff import template_differences
from lambdapress.deploy.deploying import CodeChange
from lambdapress.deploy.target import Connected
from lambdapress.deploy.template_functions import LIVE_ALIAS
from lambdapress.deploy.upload import UploadPlan, UploadProgress, ensure_bucket, plan_uploads
from lambdapress.deploy.upload import upload as upload_missing
from lambdapress.errors import DeployError

_SETTLED = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})


class SyncTarget(BaseModel):
    """One function to update, and where its new zip is."""

    model_config = ConfigDict(frozen=True)

    change: CodeChange
    bucket: str
    key: str


class SyncPlan(BaseModel):
    """The functions whose code alone changed, and the zips to upload first."""

    model_config = ConfigDict(frozen=True)

    stack_name: str
    functions: tuple[SyncTarget, ...]
    uploads: UploadPlan


def plan_sync(connected: Connected, jobs: int) -> SyncPlan:
    """What sync would update; refuses when the stack differs in more than code."""
    aws, target = connected.aws, connected.target
    name = connected.template.stack_name
    deploy_fix = f"run `lambdapress deploy --stage {target.stage}` (sync only changes code)"
    state = aws.stack(name)
    if state is None or state.in_review:
        raise DeployError(f"there is no stack {name} to sync", hint=deploy_fix)
    if state.status not in _SETTLED:
        raise DeployError(
            f"stack {name} is in state {state.status}", hint=f"wait for it, or {deploy_fix}"
        )
    code_ids = {f.logical_id for f in connected.template.functions}
    differences = template_differences(aws.template(name), connected.template.body, code_ids)
    if differences:
        shown = ", ".join(differences[:6]) + (", ..." if len(differences) > 6 else "")
        raise DeployError(f"stack {name} differs in more than code: {shown}", hint=deploy_fix)
    functions = connected.template.functions
    deployed = in_parallel(lambda f: aws.code_sha256(f.function_name), functions, jobs)
    targets: list[SyncTarget] = []
    for function, now in zip(functions, deployed, strict=True):
        if now is None:
            raise DeployError(
                f"function {function.function_name} of stack {name} does not exist",
                hint=deploy_fix,
            )
        if now != function.sha256:
            change = CodeChange(
                function=function.function,
                function_name=function.function_name,
                deployed=now,
                built=function.sha256,
            )
            targets.append(
                SyncTarget(change=change, bucket=function.code.bucket, key=function.code.key)
            )
    needed = connected.artifacts_of({t.change.function for t in targets})
    uploads = plan_uploads(aws, connected.bucket, needed, jobs)
    return SyncPlan(stack_name=name, functions=tuple(targets), uploads=uploads)


def execute_sync(
    connected: Connected,
    plan: SyncPlan,
    jobs: int,
    on_upload: UploadProgress,
    on_updated: Callable[[SyncTarget, int, int], None],
) -> None:
    """Upload, then update every function's code in parallel and wait for each."""
    aws = connected.aws
    if plan.uploads.missing:
        ensure_bucket(aws, connected.bucket, connected.target.config.project)
        upload_missing(aws, plan.uploads, jobs, on_upload)
    done: list[SyncTarget] = []

    def update(target: SyncTarget) -> None:
        name = target.change.function_name
        aws.update_code(name, target.bucket, target.key)
        status = aws.wait_updated(name)
        if status != "Successful":
            raise DeployError(
                f"Lambda could not update the code of {name}: {status}",
                hint="fix what Lambda names above, then sync (or deploy) again",
            )
        now = aws.code_sha256(name)
        if now != target.change.built:
            raise DeployError(
                f"{name} runs code {now}, not the zip just uploaded ({target.change.built})",
                hint="another deploy may be running; run the command again",
            )
        aws.publish_to_alias(name, target.change.built, LIVE_ALIAS)
        done.append(target)
        on_updated(target, len(done), len(plan.functions))

    in_parallel(update, plan.functions, jobs)
