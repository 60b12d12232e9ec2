"""moto's server, with the CloudFormation resource types every lambdapress stack has.

moto 5 implements Lambda aliases, CloudWatch alarms and CodeDeploy applications and deployment
groups as APIs, but its CloudFormation skips `AWS::Lambda::Alias`, `AWS::CloudWatch::Alarm`
and `AWS::CodeDeploy::*` with a warning (`moto/cloudformation/parsing.py`: no model for the
type), and `Fn::GetAtt [version, Version]` is not answered. Every function of a lambdapress
stack is invoked through its `live` alias, so with moto's stock server a stack could not be
created at all (a mapping or permission naming the alias would get None).

`python -m lambdapress.storage.moto_server -H 127.0.0.1 -p 5000` is moto's server with the
models CloudFormation needs for them: each calls moto's own backend (`create_alias`,
`put_metric_alarm`, `create_application`, `create_deployment_group`), so what GetAlias,
DescribeAlarms or GetDeploymentGroup read back is what the stack made (the README's
"Deploying to a local endpoint"; the tests register the same models in their process). What
they cannot do is what moto itself cannot: CodeDeploy never runs a deployment (an alias's
`UpdatePolicy` is ignored and the alias moves at once), no alarm ever goes off, and
provisioned concurrency is not set. moto is a development dependency: this module is imported
only to run that server.
"""

from __future__ import annotations

import sys
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaVersion, lambda_backends
from moto.cloudformation import parsing
from moto.cloudwatch.models import cloudwatch_backends
from moto.codedeploy.models import AlarmConfiguration, codedeploy_backends
from moto.core.common_models import CloudFormationModel

# moto files each model under its service, the second word of the model's module
# (`moto.awslambda.models`); these file under `lambdapress.moto_cloudformation`.
_MODULE = "lambdapress.moto_cloudformation"


class _NamedByProperty:
    """What the alarm and CodeDeploy models share: a name, no attribute, updates kept as is.

    Only the alarm updates itself (it puts itself again). A mixin, not a base class: moto's
    CloudFormation finds models among the direct subclasses of `CloudFormationModel` only.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        return original_resource


class _Alias(CloudFormationModel):
    """`AWS::Lambda::Alias` through moto's `create_alias` / `update_alias` / `delete_alias`."""

    __module__ = _MODULE

    def __init__(self, arn: str, function: str, name: str) -> None:
        self.arn, self.function, self.name = arn, function, name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Alias"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "AliasArn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _Alias:
        properties = cloudformation_json["Properties"]
        backend = lambda_backends[account_id][region_name]
        function = properties["FunctionName"].rsplit(":", 1)[-1]
        alias = backend.create_alias(
            properties["Name"], function, str(properties["FunctionVersion"]), "", ""
        )
        return cls(alias.arn, function, properties["Name"])

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: _Alias,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> _Alias:
        properties = cloudformation_json["Properties"]
        backend = lambda_backends[account_id][region_name]
        backend.update_alias(
            original_resource.name,
            original_resource.function,
            str(properties["FunctionVersion"]),
            # moto leaves a None unchanged, as UpdateAlias does; its annotations say `str`.
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
        )
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        function, name = resource_name.split(":function:", 1)[1].split(":")
        backend = lambda_backends[account_id][region_name]
        # moto deletes a stack's resources in no particular order; an alias goes with its
        # function, as in Lambda, so one whose function is gone is already deleted.
        if any(f.function_name == function for f in backend.list_functions()):
            backend.delete_alias(name, function)


class _Alarm(_NamedByProperty, CloudFormationModel):
    """`AWS::CloudWatch::Alarm` through moto's `put_metric_alarm` / `delete_alarms`."""

    __module__ = _MODULE  # moto reads it as the class is made, not from a mixin

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _Alarm:
        p = cloudformation_json["Properties"]
        name = p.get("AlarmName", resource_name)
        cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=name,
            namespace=p["Namespace"],
            metric_name=p["MetricName"],
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=p["EvaluationPeriods"],
            period=p["Period"],
            threshold=float(p["Threshold"]),
            statistic=p.get("Statistic"),
            extended_statistic=p.get("ExtendedStatistic"),
            description=p.get("AlarmDescription", ""),
            dimensions=p["Dimensions"],
            alarm_actions=p.get("AlarmActions", []),
            ok_actions=p.get("OKActions", []),
            treat_missing_data=p.get("TreatMissingData"),
        )
        return cls(name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: _Alarm,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> _Alarm:
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])


class _Application(_NamedByProperty, CloudFormationModel):
    """`AWS::CodeDeploy::Application` through moto's `create_application`."""

    __module__ = _MODULE  # moto reads it as the class is made, not from a mixin

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CodeDeploy::Application"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "ApplicationName"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _Application:
        p = cloudformation_json["Properties"]
        name = p.get("ApplicationName", resource_name)
        backend = codedeploy_backends[account_id][region_name]
        backend.create_application(name, p.get("ComputePlatform", "Server"), p.get("Tags", []))
        return cls(name)

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        codedeploy_backends[account_id][region_name].applications.pop(resource_name, None)


class _DeploymentGroup(_NamedByProperty, CloudFormationModel):
    """`AWS::CodeDeploy::DeploymentGroup` through moto's `create_deployment_group`."""

    __module__ = _MODULE  # moto reads it as the class is made, not from a mixin

    def __init__(self, application: str, name: str) -> None:
        super().__init__(name)
        self.application = application

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CodeDeploy::DeploymentGroup"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "DeploymentGroupName"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _DeploymentGroup:
        p = cloudformation_json["Properties"]
        name = p.get("DeploymentGroupName", resource_name)
        alarms = p.get("AlarmConfiguration", {})
        codedeploy_backends[account_id][region_name].create_deployment_group(
            application_name=p["ApplicationName"],
            deployment_group_name=name,
            deployment_config_name=p.get("DeploymentConfigName"),
            ec2_tag_filters=None,
            on_premises_instance_tag_filters=None,
            auto_scaling_groups=None,
            service_role_arn=p["ServiceRoleArn"],
            alarm_configuration=AlarmConfiguration(
                alarms=[{"name": a["Name"]} for a in alarms.get("Alarms", [])],
                enabled=alarms.get("Enabled", False),
            ),
            auto_rollback_configuration={
                "enabled": p["AutoRollbackConfiguration"]["Enabled"],
                "events": p["AutoRollbackConfiguration"]["Events"],
            },
            deployment_style={
                "deploymentType": p["DeploymentStyle"]["DeploymentType"],
                "deploymentOption": p["DeploymentStyle"]["DeploymentOption"],
            },
        )
        return cls(p["ApplicationName"], name)

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        backend = codedeploy_backends[account_id][region_name]
        for groups in backend.deployment_groups.values():
            groups.pop(resource_name, None)


def _version_attribute(self: LambdaVersion, attribute_name: str) -> str:
    """`Fn::GetAtt [version, Version]`: the number moto published."""
    if attribute_name != "Version":
        raise NotImplementedError(attribute_name)
    return str(self.version)


def _replaced_version(
    original_resource: LambdaVersion,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> LambdaVersion:
    """A version's properties changed: CloudFormation replaces it, publishing a new one."""
    return LambdaVersion.create_from_cloudformation_json(
        new_resource_name, cloudformation_json, account_id, region_name
    )


_send_sqs_batch = LambdaBackend.send_sqs_batch


def _send_to_the_function(
    self: LambdaBackend, function_arn: str, messages: Any, queue_arn: str
) -> bool:
    """moto's queue -> function delivery, given the function rather than the alias's version.

    A mapping on the alias is stored by moto with the version's ARN (`function:<name>:1`), and
    moto's copy of a published version has no Docker client: delivering to it raises
    AttributeError, a 500 for the `SendMessage` that triggered it. Without Docker moto runs no
    function anyway: given the unqualified function, the delivery fails as it always did here
    and the messages stay in the queue (for the tests' local delivery loop).
    """
    unqualified = ":".join(function_arn.split(":")[:7])
    return bool(_send_sqs_batch(self, unqualified, messages, queue_arn))


PATCHES: tuple[tuple[type[Any], str, Any], ...] = (
    (LambdaBackend, "send_sqs_batch", _send_to_the_function),
    (LambdaVersion, "get_cfn_attribute", _version_attribute),
    (LambdaVersion, "update_from_cloudformation_json", staticmethod(_replaced_version)),
)
"""What `install` changes of moto's classes (the tests apply them for one test each)."""


def refresh() -> None:
    """Make moto's CloudFormation see the models defined here (it caches its list)."""
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


def install() -> None:
    """Patch moto for good, in this process (the server's)."""
    for owner, name, value in PATCHES:
        setattr(owner, name, value)
    refresh()


def main(argv: list[str] | None = None) -> int:
    """moto's server (`moto_server`'s arguments) with the models above installed."""
    from moto.server import main as moto_main

    install()
    moto_main(argv if argv is not None else sys.argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
