"""The CloudFormation template of one stage, from the application model and the stage's settings.

Pure: it reads no file and calls no AWS API, so the same model and stage settings give
the same bytes (JSON with sorted keys, resources made in name order), which is what makes a
change set show only what really changed, and lets tests check templates without an account.

The stack is the project's whole API (see the README's "Deploy" section for the resource
list). The artifact bucket is the one parameter, `ArtifactBucket`: the same template deploys
from any bucket (its default is the bucket `deploy` uploaded to, when there is one), so a team
with its own pipeline uploads the zips to its bucket under the keys named here and passes
that bucket's name.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from lambdapress.config.aws_rules import BUCKET_NAME_PATTERN
from lambdapress.deploy._hardening import add_stage_key, data_protection, encrypt_with
from lambdapress.deploy._template_alarms import add_alarms
from lambdapress.deploy._template_rollouts import add_codedeploy, hook_dependencies, update_policy
from lambdapress.deploy._template_services import add_resources, add_role, resource_environment
from lambdapress.deploy._template_triggers import add_triggers
from lambdapress.deploy.concurrency import with_connection_budget
from lambdapress.deploy.config import DeployConfig, check_stage
from lambdapress.deploy.rollouts import function_rollouts, stage_hooks
from lambdapress.deploy.template_functions import StackFunction, add_function
from lambdapress.deploy.template_ids import (
    ARTIFACT_BUCKET,
    Resources,
    physical_function_name,
)
from lambdapress.deploy.template_network import StageNetwork
from lambdapress.deploy.template_observability import add_dashboard, traced, tracing_statement
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application

# CloudFormation's limit of resources per stack.
MAX_RESOURCES = 500
# What a stack of this template needs to be created or updated: it has unnamed IAM roles.
CAPABILITIES = ("CAPABILITY_IAM",)


class CodeLocation(BaseModel):
    """Where a function's zip lives in S3."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str


class FunctionResource(BaseModel):
    """One function of the stack, as `deploy` and `sync` need to find and update it."""

    model_config = ConfigDict(frozen=True)

    logical_id: str
    function_name: str
    """The physical FunctionName, stable across deploys."""
    service: str
    function: str
    """The manifest's name (`orders.get_order`)."""
    sha256: str
    """The manifest's CodeSha256 (base64), what Lambda reports for the deployed code."""
    code: CodeLocation


class StackTemplate(BaseModel):
    """A stage's stack: its name, the template's text and the functions in it."""

    model_config = ConfigDict(frozen=True)

    stack_name: str
    body: str
    """Deterministic JSON; above 51,200 bytes CloudFormation takes it only from S3."""
    functions: tuple[FunctionResource, ...]


def artifact_key(prefix: str, service: str, zip_sha256_hex: str) -> str:
    """The zip's key: content-addressed, so an unchanged zip is never uploaded twice."""
    return f"{prefix}/{service}/{zip_sha256_hex}.zip"


def build_template(
    application: Application, config: DeployConfig, stage: str, bucket: str
) -> StackTemplate:
    """The stack of `stage`, its code in `bucket` (the `ArtifactBucket` parameter's default)."""
    body, functions = _render(application, config, stage, bucket)
    resources = tuple(
        FunctionResource(
            logical_id=function.logical_id,
            function_name=function.function_name,
            service=function.entry.service,
            function=function.entry.name,
            sha256=function.entry.artifact.code_sha256,
            code=CodeLocation(bucket=bucket, key=function.key),
        )
        for function in functions
    )
    return StackTemplate(stack_name=config.stack_name(stage), body=body, functions=resources)


def template_body(
    application: Application, config: DeployConfig, stage: str, bucket: str | None = None
) -> str:
    """The template alone; without a bucket, `ArtifactBucket` must be given at deploy time."""
    return _render(application, config, stage, bucket)[0]


def _render(
    application: Application, config: DeployConfig, stage: str, bucket: str | None
) -> tuple[str, list[StackFunction]]:
    check_stage(stage)
    settings = config.stage_settings(stage)
    hardening = settings.hardening
    application = with_connection_budget(application, hardening, settings.is_production)
    protection = data_protection(hardening, settings.is_production)
    resources = Resources()
    add_resources(resources, application, config.project, stage, protection)
    key = add_stage_key(
        resources, hardening, protection, (config.project, stage, config.stack_name(stage))
    )
    network = StageNetwork.of(application, config, stage)
    network.add_proxy(resources)
    functions: list[StackFunction] = []
    tracing = traced(config, stage)
    traced_statements = [tracing_statement()] if tracing else []  # X-Ray's, in every role
    targets: dict[str, dict[str, Any]] = {}
    alarms: dict[str, dict[str, str]] = {}
    hooks = stage_hooks(application, config, stage)
    rollouts = {r.function: r for r in function_rollouts(application, config, stage)}
    for entry in sorted(application.functions, key=lambda f: f.name):
        function = StackFunction(
            entry=entry,
            function_name=physical_function_name(config.project, stage, entry.name),
            key=artifact_key(config.prefix, entry.service, entry.artifact.sha256),
            role=add_role(
                resources,
                application,
                entry,
                config.project,
                stage,
                [*network.statements(entry), *traced_statements],
            ),
            environment={
                **resource_environment(application, entry, config.project, stage),
                **network.environment(entry),
            },
            project=config.project,
            stage=stage,
            log_retention_days=config.log_retention_days,
            alias_update_policy=update_policy(rollouts[entry.name], hooks),
            alias_depends_on=tuple(hook_dependencies(rollouts[entry.name], hooks)),
            vpc_config=network.vpc_config(entry),
            tracing=tracing,
        )
        targets[entry.name] = add_function(resources, function)
        alarms[entry.name] = add_alarms(resources, application, function, settings.alarms)
        functions.append(function)
    add_codedeploy(resources, tuple(rollouts.values()), hooks, alarms, config.project, stage)
    outputs = add_triggers(resources, application, config, stage, targets)
    add_dashboard(resources, application, config, stage)
    network.add_domain(resources, outputs)
    if key is not None:
        encrypt_with(resources, key)
    if len(resources) > MAX_RESOURCES:
        raise ConfigError(
            f"the stack would have {len(resources)} resources; CloudFormation allows "
            f"{MAX_RESOURCES} per stack",
            hint='bundle some services whole (bundle = "service": one function per service) '
            "or deploy them as separate projects",
        )
    document = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"lambdapress: project {config.project}, stage {stage} "
        "(generated from dist/manifest.json; edit the sources, not this file)",
        "Parameters": {ARTIFACT_BUCKET: _bucket_parameter(bucket), **network.parameters},
        "Resources": resources.as_dict(),
        **({"Outputs": outputs} if outputs else {}),
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n", functions


def _bucket_parameter(bucket: str | None) -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "Type": "String",
        "Description": "The S3 bucket holding the functions' zips (keys as in the template)",
        "AllowedPattern": BUCKET_NAME_PATTERN,
    }
    if bucket is not None:
        parameter["Default"] = bucket
    return parameter
