"""`lambdapress destroy`: delete one stage's stack (and nothing else), the bucket on request.

The artifact bucket goes only once it is certain it holds nothing but lambdapress's objects.

plan:    the stack (none: nothing to delete) and its resources -> its own buckets (event
         sources) must be empty: CloudFormation cannot delete a bucket holding objects, and
         lambdapress never deletes what users put there -> with --with-bucket: the artifact
         bucket must hold only keys under the prefix, and no other stage of the project may
         still use it (its objects counted)
execute: delete the stack, following its events until it is gone -> empty and delete the
         bucket

Everything that could refuse is checked in the plan, so a refusal leaves the stack in place;
`destroy --plan` prints the plan (every resource the stack would take with it) and deletes
nothing. What the deployed template marks `DeletionPolicy: Retain` (a production stage's
tables and key: `hardening.retain-data`) stays in the account when the stack goes: the plan and
the result name each one (`DestroyPlan.kept`), so nobody believes the data gone, or pays for it
unknowingly. A PostgreSQL database was never in the stack: destroy does not touch it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from lambdapress.config.workspace import find_root
from lambdapress.deploy import _stack as stack
from lambdapress.deploy._secret_values import Secrets
from lambdapress.deploy._stack import EventCallback
from lambdapress.deploy.aws import Aws, StackResource, StackState
from lambdapress.deploy.config import DeployConfig, check_stage, load_deploy_config
from lambdapress.deploy.template_ids import PROJECT_TAG
from lambdapress.deploy.upload import default_bucket
from lambdapress.errors import DeployError


class DestroyPlan(BaseModel):
    """The stack to delete (None: there is none) and the bucket to delete after it, if any."""

    model_config = ConfigDict(frozen=True)

    stack_name: str
    stack: StackState | None
    resources: tuple[StackResource, ...] = ()
    """What deleting the stack deletes, and what it keeps (`kept`)."""
    kept: tuple[StackResource, ...] = ()
    """The resources the template retains (`DeletionPolicy: Retain`): left in the account."""
    bucket: str
    delete_bucket: bool
    bucket_exists: bool
    objects: int = 0
    """With `delete_bucket`: how many objects go with it."""


def load_config(root: Path, stage: str) -> DeployConfig:
    """The project's deploy settings; destroy needs neither a build nor a manifest."""
    check_stage(stage)
    return load_deploy_config(find_root(root))


def plan_destroy(config: DeployConfig, stage: str, with_bucket: bool) -> tuple[Aws, DestroyPlan]:
    """Look at the stack and the bucket.

    Refuses, before anything is deleted, when the bucket was asked for but is not
    lambdapress's alone to delete.
    """
    aws = Aws(Secrets.gather())
    name = config.stack_name(stage)
    state = aws.stack(name)
    bucket = config.bucket or default_bucket(config.project, aws.account(), aws.region)
    exists = aws.bucket_exists(bucket)
    resources = tuple(aws.stack_resources(state.stack_id)) if state is not None else ()
    retained = _retained(aws.template(name)) if state is not None else frozenset()
    _check_stack_buckets_are_empty(aws, name, resources)
    objects = _check_bucket_is_ours(aws, config, name, bucket) if with_bucket and exists else 0
    plan = DestroyPlan(
        stack_name=name,
        stack=state,
        resources=resources,
        kept=tuple(r for r in resources if r.logical_id in retained),
        bucket=bucket,
        delete_bucket=with_bucket and exists,
        bucket_exists=exists,
        objects=objects,
    )
    return aws, plan


def execute_destroy(aws: Aws, plan: DestroyPlan, on_event: EventCallback) -> None:
    """Delete the stack and wait until it is gone, then the bucket when planned."""
    if plan.stack is not None:
        stack.delete(aws, plan.stack_name, plan.stack, on_event)
    if plan.delete_bucket:
        aws.delete_bucket(plan.bucket)


def _retained(template: Any) -> frozenset[str]:
    """The logical ids the deployed template keeps on delete (JSON as lambdapress writes it).

    A template CloudFormation returns as text (YAML of a SAM deploy, say) is read as JSON when
    it is JSON, else as YAML.
    """
    if isinstance(template, str):
        try:
            template = json.loads(template)
        except ValueError:
            import yaml  # SAM's YAML: only then

            template = yaml.safe_load(template)
    resources = template.get("Resources", {}) if isinstance(template, dict) else {}
    return frozenset(
        logical_id
        for logical_id, resource in resources.items()
        if isinstance(resource, dict) and resource.get("DeletionPolicy") == "Retain"
    )


def _check_stack_buckets_are_empty(
    aws: Aws, stack_name: str, resources: tuple[StackResource, ...]
) -> None:
    """The stack's own buckets hold nothing; else destroy stops here, before any deletion.

    CloudFormation refuses to delete a bucket that holds objects, so deleting the stack would
    stop halfway (DELETE_FAILED); what is in it is the users' data, which lambdapress leaves to
    them to keep or remove.
    """
    for resource in resources:
        if resource.resource_type != "AWS::S3::Bucket" or not resource.physical_id:
            continue
        if not aws.bucket_exists(resource.physical_id):
            continue
        first = next(iter(aws.keys(resource.physical_id)), None)
        if first is not None:
            raise DeployError(
                f"bucket {resource.physical_id} ({resource.logical_id} of stack {stack_name}) "
                f"holds objects ({first!r}...): CloudFormation cannot delete a bucket that is "
                "not empty, so nothing was deleted",
                hint=f"keep what you need elsewhere, empty it (aws s3 rm "
                f"s3://{resource.physical_id} --recursive), then destroy again",
            )


def _check_bucket_is_ours(aws: Aws, config: DeployConfig, stack_name: str, bucket: str) -> int:
    """Only keys under the prefix, and no other stage's stack still pointing into it.

    Returns how many objects it holds.
    """
    prefix = f"{config.prefix}/"
    count = 0
    for key in aws.keys(bucket):
        count += 1
        if not key.startswith(prefix):
            raise DeployError(
                f"bucket {bucket} holds {key!r}, which lambdapress did not put there (its "
                f"keys start with {prefix!r}): the bucket is kept",
                hint="remove those objects yourself if the bucket should go, or destroy "
                "without --with-bucket",
            )
    others = [s for s in aws.project_stacks(PROJECT_TAG, config.project) if s != stack_name]
    if others:
        raise DeployError(
            f"bucket {bucket} still holds the code of {', '.join(others)}: the bucket is kept",
            hint="destroy those stages first, or destroy without --with-bucket",
        )
    return count
