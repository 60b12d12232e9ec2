"""CodeDeploy's resources for gradual rollouts: what SAM's `DeploymentPreference` writes.

For each function whose rollout is gradual (`rollouts.function_rollouts`):

- its `live` alias gets `UpdatePolicy: CodeDeployLambdaAliasUpdate` (application, deployment
  group, optional traffic hooks): when CloudFormation would move the alias to the new version
  it starts a CodeDeploy deployment instead, which shifts the traffic step by step, and the
  stack update waits for it; a deployment stopped by an alarm fails the update and the stack
  rolls back to the old version;
- an `AWS::CodeDeploy::DeploymentGroup` named like the function, with the strategy's
  configuration (CodeDeploy's own `CodeDeployDefault.Lambda...` or a custom
  `AWS::CodeDeploy::DeploymentConfig` for other percents and minutes), the function's errors
  and p99 duration alarms (`_template_alarms`), and automatic rollback on failure and on alarm.

Once per stage, when any function is gradual: the `AWS::CodeDeploy::Application` (named like the
stack, `ComputePlatform: Lambda`) and its service role. The role takes AWS's managed policy
`AWSCodeDeployRoleForLambdaLimited` (read the alias and alarms, update the alias, read
CodeDeploy's S3 objects, invoke only functions named `CodeDeployHook_*`; unlike
`AWSCodeDeployRoleForLambda`, no `sns:Publish`: only trigger notifications need it, and the
stack configures none), which is least privilege for what CodeDeploy does: a statement of
its own adds `lambda:InvokeFunction` on exactly the stage's hook functions. Each hook's
execution role gets `codedeploy:PutLifecycleEventHookExecutionStatus` on exactly the
deployment groups it reports to. A function deployed all at once gets none of this:
CloudFormation moves its alias in one step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lambdapress.config.aws_rules import camel
from lambdapress.config.rollout_settings import Rollout
from lambdapress.deploy import rollouts
from lambdapress.deploy._template_services import POLICY_VERSION, role_id
from lambdapress.deploy.rollouts import FunctionRollout, Hooks
from lambdapress.deploy.template_ids import (
    Resources,
    function_id,
    physical_function_name,
    tags,
)

CODEDEPLOY_APPLICATION = "CodeDeployApplication"
CODEDEPLOY_ROLE = "CodeDeployServiceRole"
MANAGED_POLICY = "service-role/AWSCodeDeployRoleForLambdaLimited"
ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]


def deployment_group_id(function: str) -> str:
    """`OrdersGetOrderDeploymentGroup`."""
    return function_id(function, "DeploymentGroup")


def update_policy(rollout: FunctionRollout, hooks: Hooks) -> dict[str, Any] | None:
    """The `live` alias's `UpdatePolicy` when the function's rollout is gradual, else None."""
    if not rollout.rollout.gradual:
        return None
    update: dict[str, Any] = {
        "ApplicationName": {"Ref": CODEDEPLOY_APPLICATION},
        "DeploymentGroupName": {"Ref": deployment_group_id(rollout.function)},
    }
    if hooks.before is not None:
        update["BeforeAllowTrafficHook"] = {"Ref": function_id(hooks.before)}
    if hooks.after is not None:
        update["AfterAllowTrafficHook"] = {"Ref": function_id(hooks.after)}
    return {"CodeDeployLambdaAliasUpdate": update}


def hook_dependencies(rollout: FunctionRollout, hooks: Hooks) -> list[str]:
    """What a gradual alias waits for: the hooks' permission to report (else a hook fails)."""
    if not rollout.rollout.gradual:
        return []
    return [_hook_policy_id(hook) for hook in hooks.names()]


def add_codedeploy(
    resources: Resources,
    function_rollouts: Sequence[FunctionRollout],
    hooks: Hooks,
    alarms: Mapping[str, Mapping[str, str]],
    project: str,
    stage: str,
) -> None:
    """Add the application, role, configurations and groups of the gradual functions.

    `alarms` are each function's alarm ids by kind (`_template_alarms.add_alarms`).
    """
    gradual = [r for r in function_rollouts if r.rollout.gradual]
    if not gradual:
        return
    resources.add(
        CODEDEPLOY_APPLICATION,
        {
            "Type": "AWS::CodeDeploy::Application",
            "Properties": {
                "ApplicationName": f"{project}-{stage}",
                "ComputePlatform": "Lambda",
                "Tags": tags(project, stage),
            },
        },
        "the stage's gradual rollouts",
    )
    _add_service_role(resources, hooks, project, stage)
    configs: dict[Rollout, Any] = {}
    for rollout in gradual:
        if rollout.rollout not in configs:
            configs[rollout.rollout] = _deployment_config(resources, rollout.rollout)
        watched = [
            {"Name": {"Ref": alarms[rollout.function][kind]}} for kind in rollouts.ROLLBACK_ALARMS
        ]
        resources.add(
            deployment_group_id(rollout.function),
            {
                "Type": "AWS::CodeDeploy::DeploymentGroup",
                "Properties": {
                    "ApplicationName": {"Ref": CODEDEPLOY_APPLICATION},
                    "DeploymentGroupName": physical_function_name(project, stage, rollout.function),
                    "ServiceRoleArn": {"Fn::GetAtt": [CODEDEPLOY_ROLE, "Arn"]},
                    "DeploymentConfigName": configs[rollout.rollout],
                    "DeploymentStyle": {
                        "DeploymentType": "BLUE_GREEN",
                        "DeploymentOption": "WITH_TRAFFIC_CONTROL",
                    },
                    "AlarmConfiguration": {"Enabled": True, "Alarms": watched},
                    "AutoRollbackConfiguration": {"Enabled": True, "Events": ROLLBACK_EVENTS},
                },
            },
            f"function {rollout.function}",
        )
    for hook in hooks.names():
        _add_hook_policy(resources, hook, [r.function for r in gradual])


def _deployment_config(resources: Resources, rollout: Rollout) -> Any:
    """CodeDeploy's predefined name, or a custom configuration's (a `Ref` to it)."""
    predefined = rollout.predefined_config()
    if predefined is not None:
        return predefined
    logical_id = resources.add(
        f"Rollout{camel(rollout.strategy)}{rollout.percent}Percent{rollout.minutes}Minutes",
        {
            "Type": "AWS::CodeDeploy::DeploymentConfig",
            "Properties": {
                "ComputePlatform": "Lambda",
                "TrafficRoutingConfig": rollout.traffic_routing(),
            },
        },
        f"the rollout {rollout.describe()}",
    )
    return {"Ref": logical_id}


def _add_service_role(resources: Resources, hooks: Hooks, project: str, stage: str) -> None:
    properties: dict[str, Any] = {
        "Description": "lambdapress: CodeDeploy shifting the functions' live aliases",
        "AssumeRolePolicyDocument": {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "codedeploy.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        "ManagedPolicyArns": [
            {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::aws:policy/{MANAGED_POLICY}"}
        ],
        "Tags": tags(project, stage),
    }
    if hooks.names():
        invoke = {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": [{"Fn::GetAtt": [function_id(hook), "Arn"]} for hook in hooks.names()],
        }
        properties["Policies"] = [
            {
                "PolicyName": "lambdapress-traffic-hooks",
                "PolicyDocument": {"Version": POLICY_VERSION, "Statement": [invoke]},
            }
        ]
    resources.add(
        CODEDEPLOY_ROLE,
        {"Type": "AWS::IAM::Role", "Properties": properties},
        "the stage's gradual rollouts",
    )


def _hook_policy_id(hook: str) -> str:
    return function_id(hook, "HookPolicy")


def _add_hook_policy(resources: Resources, hook: str, functions: Sequence[str]) -> None:
    """The hook may report its verdict to the deployment groups of the gradual functions."""
    groups = [
        {
            "Fn::Sub": "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:"
            f"deploymentgroup:${{{CODEDEPLOY_APPLICATION}}}/${{{deployment_group_id(f)}}}"
        }
        for f in functions
    ]
    resources.add(
        _hook_policy_id(hook),
        {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "lambdapress-traffic-hook",
                "Roles": [{"Ref": role_id(hook)}],
                "PolicyDocument": {
                    "Version": POLICY_VERSION,
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "codedeploy:PutLifecycleEventHookExecutionStatus",
                            "Resource": groups,
                        }
                    ],
                },
            },
        },
        f"the traffic hook {hook}",
    )
