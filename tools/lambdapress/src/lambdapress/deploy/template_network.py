"""A stage's network in the stack: VPC functions, the RDS Proxy, the custom domain, warnings.

What the stage's `network`, `database` and `domain` tables (`config.network_settings`) make of
the model, in one place, so the function, role and API renderers each take one value from here:

- which functions run in the network: the stage has one, and the function says `vpc = true`,
  or says nothing and uses a PostgreSQL database (a database in private subnets is the reason
  a team has a VPC; everything else is faster and cheaper outside it). Those get `VpcConfig`,
  and their roles the network-interface actions Lambda needs to attach them
  (`ENI_ACTIONS`, AWSLambdaVPCAccessExecutionRole's list). The two `Describe` actions have no
  resource-level permissions, so IAM takes them only on the resource `*`; the others (create,
  delete, assign and unassign addresses) are granted on EC2 resources of the stack's account
  and region only (`arn:...:ec2:<region>:<account>:*/*`, the form Lambda's documentation
  gives: the interfaces do not exist before Lambda creates them, and the subnets may come
  from a parameter). Lambda, not the function's code, uses them.
- subnets and security groups by ID, or resolved by CloudFormation: an export through
  `Fn::ImportValue` (comma-joined IDs, split), an SSM parameter through a template parameter of
  type `AWS::SSM::Parameter::Value<List<...>>` whose default is its name (CloudFormation reads
  it at each deploy and checks that the IDs are subnets or security groups).
- the proxy: `AWS::RDS::DBProxy` with IAM authentication required and TLS, placed in the
  network, reading the database user's secret through a role of its own (GetSecretValue on
  that secret only), its `default` target group naming the instance or cluster; each
  PostgreSQL function gets `DATABASE_PROXY_HOST` (the proxy's endpoint: the runtime then
  connects there with an IAM token instead of a password) and `rds-db:connect` as the stage's
  database user on this proxy only.
- the domain: `AWS::ApiGatewayV2::DomainName` (regional, TLS 1.2) with the stage's certificate,
  the API mapping of the HTTP API's `$default` stage under the base path, an optional Route 53
  alias record, and the URL as the `ApiDomainUrl` output (which `deploy` prints).
- warnings: a VPC function whose permissions name an AWS API that the stage reaches neither
  through a declared endpoint nor a NAT (its calls would hang until the function times out).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lambdapress.config.network_settings import (
    DATABASE_PROXY_HOST_ENV,
    DatabaseSettings,
    DomainSettings,
    FromExport,
    IdSource,
    NetworkSettings,
)
from lambdapress.config.stage_settings import StageSettings
from lambdapress.deploy.config import DeployConfig
from lambdapress.deploy.template_ids import HTTP_API, HTTP_API_STAGE, Resources, stage_tags, tags
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application, Function
from lambdapress.model.resources import PostgresDatabase
from lambdapress.model.trigger_kinds import trigger_permissions
from lambdapress.model.triggers import DynamoDBStreamTrigger, SqsTrigger

"""The proxy's endpoint, for the runtime's connection provider (the contract with it)."""
ENI_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
"""Lambda's reads of a VPC function's network; IAM allows them on `*` only."""
ENI_WRITE_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
"""Lambda's changes to a VPC function's interfaces; granted in the account and region only."""
ENI_ACTIONS = (*ENI_DESCRIBE_ACTIONS, *ENI_WRITE_ACTIONS)
"""What Lambda does with a VPC function's role to attach it (AWSLambdaVPCAccessExecutionRole)."""
EC2_IN_THIS_ACCOUNT = "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:*/*"
PROXY = "DatabaseProxy"
PROXY_TARGETS = "DatabaseProxyTargetGroup"
PROXY_ROLE = "DatabaseProxyRole"
DOMAIN = "ApiDomainName"
DOMAIN_MAPPING = "ApiDomainMapping"
DOMAIN_RECORD = "ApiDomainRecord"
DOMAIN_URL_OUTPUT = "ApiDomainUrl"
SUBNETS_PARAMETER = "NetworkSubnets"
SECURITY_GROUPS_PARAMETER = "NetworkSecurityGroups"
PROXY_NAME_MAX = 60
"""RDS's limit for a DBProxyName."""
# IAM prefixes whose calls never leave through the function's network: Lambda writes the logs
# and manages the interfaces itself; an RDS IAM token is signed locally, without a call.
_NOT_THROUGH_THE_NETWORK = frozenset({"logs", "ec2", "rds-db"})
# IAM prefixes whose VPC endpoint service has another name.
_ENDPOINT_OF = {"cloudwatch": "monitoring"}
_POLICY_VERSION = "2012-10-17"
# Triggers an event source mapping polls (with the function's role, outside its network).
_POLLED = (SqsTrigger, DynamoDBStreamTrigger)


def uses_postgres(application: Application, function: Function) -> bool:
    """Whether `function` uses a PostgreSQL database of the application."""
    return any(isinstance(r, PostgresDatabase) for r in application.used_by(function))


def in_network(application: Application, function: Function, settings: StageSettings) -> bool:
    """Whether `function` runs in the stage's network: its `vpc`, else whether it uses PostgreSQL.

    Always False for a stage without a network (`vpc = true` means "when there is one").
    """
    if settings.network is None:
        return False
    if function.capacity.vpc is not None:
        return function.capacity.vpc
    return uses_postgres(application, function)


def proxied(application: Application, settings: StageSettings) -> DatabaseSettings | None:
    """The stage's proxy settings when a proxy is rendered: one is asked for, and used."""
    database = settings.database
    if database is None or not database.proxy:
        return None
    if not any(uses_postgres(application, f) for f in application.functions):
        return None
    return database


@dataclass
class StageNetwork:
    """The network of one stage's template: what each function gets, and what the stage adds."""

    application: Application
    settings: StageSettings
    project: str
    stage: str
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Template parameters the network needs (SSM-held IDs), by name."""

    @classmethod
    def of(cls, application: Application, config: DeployConfig, stage: str) -> StageNetwork:
        """The stage's network settings, checked against the model."""
        network = cls(application, config.stage_settings(stage), config.project, stage)
        network._check()
        return network

    def _check(self) -> None:
        if proxied(self.application, self.settings) is None:
            return
        for function in self.application.functions:
            if uses_postgres(self.application, function) and not self.in_network(function):
                handler = function.name.removeprefix(f"{function.service}.")
                raise ConfigError(
                    f"function {function.name} uses PostgreSQL, which stage {self.stage} "
                    "reaches through its RDS Proxy, but the function is not in the stage's "
                    "network (vpc = false): it could not reach the proxy",
                    hint=f"remove vpc = false from [tool.lambdapress.functions.{handler}] of "
                    f"service {function.service}, or set proxy = false in "
                    f"[tool.lambdapress.deploy.stages.{self.stage}.database]",
                )

    def in_network(self, function: Function) -> bool:
        """Whether `function` runs in the network (`in_network`)."""
        return in_network(self.application, function, self.settings)

    def vpc_config(self, function: Function) -> dict[str, Any] | None:
        """The function's `VpcConfig`, or None outside the network."""
        network = self.settings.network
        if network is None or not self.in_network(function):
            return None
        return _vpc_config(network, self.parameters)

    def statements(self, function: Function) -> list[dict[str, Any]]:
        """What the function's role needs besides its model permissions: ENIs, the proxy."""
        if not self.in_network(function):
            return []
        statements: list[dict[str, Any]] = [
            {"Effect": "Allow", "Action": list(ENI_DESCRIBE_ACTIONS), "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": list(ENI_WRITE_ACTIONS),
                "Resource": {"Fn::Sub": EC2_IN_THIS_ACCOUNT},
            },
        ]
        database = proxied(self.application, self.settings)
        if database is not None and uses_postgres(self.application, function):
            statements.append(
                {"Effect": "Allow", "Action": ["rds-db:connect"], "Resource": [_dbuser(database)]}
            )
        return statements

    def environment(self, function: Function) -> dict[str, Any]:
        """`DATABASE_PROXY_HOST` for a PostgreSQL function of a stage with a proxy."""
        if proxied(self.application, self.settings) is None:
            return {}
        if not uses_postgres(self.application, function):
            return {}
        if DATABASE_PROXY_HOST_ENV in function.environment:
            raise ConfigError(
                f"function {function.name} sets {DATABASE_PROXY_HOST_ENV} in its environment, "
                f"but stage {self.stage}'s RDS Proxy provides it",
                hint=f"remove {DATABASE_PROXY_HOST_ENV} from [tool.lambdapress.environment] of "
                f"service {function.service}, then package again",
            )
        return {DATABASE_PROXY_HOST_ENV: {"Fn::GetAtt": [PROXY, "Endpoint"]}}

    def add_proxy(self, resources: Resources) -> None:
        """The proxy, its target group and its role, when the stage has one in use."""
        database = proxied(self.application, self.settings)
        network = self.settings.network
        if database is None or network is None:
            return
        _add_proxy(resources, database, network, self, self.parameters)

    def add_domain(self, resources: Resources, outputs: dict[str, dict[str, Any]]) -> None:
        """The custom domain of the HTTP API, when the stage has one."""
        domain = self.settings.domain
        if domain is None:
            return
        if HTTP_API not in resources.as_dict():
            raise ConfigError(
                f"stage {self.stage} has a domain ({domain.name}), but the application has no "
                "HTTP routes, so no API to put under it",
                hint=f"remove [tool.lambdapress.deploy.stages.{self.stage}.domain], or add a "
                "route (@app.get(...)) and package again",
            )
        _add_domain(resources, domain, self.project, self.stage)
        outputs[DOMAIN_URL_OUTPUT] = {
            "Description": "The HTTP API under the stage's domain",
            "Value": domain.url,
        }


def _ids(
    source: IdSource, parameter: str, kind: str, parameters: dict[str, dict[str, Any]]
) -> object:
    """IDs as the template writes them: a list, an imported list, or a parameter's value."""
    if isinstance(source, list):
        return list(source)
    if isinstance(source, FromExport):
        return {"Fn::Split": [",", {"Fn::ImportValue": source.export}]}
    parameters[parameter] = {
        "Type": f"AWS::SSM::Parameter::Value<List<{kind}>>",
        "Default": source.ssm,
        "Description": f"The SSM parameter holding the network's {kind} IDs",
    }
    return {"Ref": parameter}


def _vpc_config(network: NetworkSettings, parameters: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "SubnetIds": _ids(network.subnets, SUBNETS_PARAMETER, "AWS::EC2::Subnet::Id", parameters),
        "SecurityGroupIds": _ids(
            network.security_groups,
            SECURITY_GROUPS_PARAMETER,
            "AWS::EC2::SecurityGroup::Id",
            parameters,
        ),
    }


def proxy_name(project: str, stage: str) -> str:
    """`acme-prod`: the proxy's name (RDS allows letters, digits and single dashes, 60 at most)."""
    name = f"{project}-{stage}"
    if len(name) > PROXY_NAME_MAX:
        raise ConfigError(
            f"the RDS Proxy's name {name!r} is longer than RDS's {PROXY_NAME_MAX} characters",
            hint="use a shorter project or stage name",
        )
    return name


def _dbuser(database: DatabaseSettings) -> dict[str, Any]:
    """`arn:...:rds-db:<region>:<account>:dbuser:<proxy resource id>/<user>`.

    The proxy's resource id (`prx-...`) is the last part of its ARN.
    """
    proxy_id = {"Fn::Select": [6, {"Fn::Split": [":", {"Fn::GetAtt": [PROXY, "DBProxyArn"]}]}]}
    return {
        "Fn::Sub": [
            "arn:${AWS::Partition}:rds-db:${AWS::Region}:${AWS::AccountId}:dbuser:"
            f"${{ProxyId}}/{database.user}",
            {"ProxyId": proxy_id},
        ]
    }


def _add_proxy(
    resources: Resources,
    database: DatabaseSettings,
    network: NetworkSettings,
    stage: StageNetwork,
    parameters: dict[str, dict[str, Any]],
) -> None:
    owner = f"the RDS Proxy of stage {stage.stage}"
    resources.add(
        PROXY_ROLE,
        {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": f"lambdapress: {owner} reads the database user's secret",
                "AssumeRolePolicyDocument": {
                    "Version": _POLICY_VERSION,
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "rds.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "lambdapress-database-proxy",
                        "PolicyDocument": {
                            "Version": _POLICY_VERSION,
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["secretsmanager:GetSecretValue"],
                                    "Resource": [database.secret_arn],
                                },
                                *_decrypt(database),
                            ],
                        },
                    }
                ],
                "Tags": tags(stage.project, stage.stage),
            },
        },
        owner,
    )
    placement = _vpc_config(network, parameters)
    resources.add(
        PROXY,
        {
            "Type": "AWS::RDS::DBProxy",
            "Properties": {
                "DBProxyName": proxy_name(stage.project, stage.stage),
                "EngineFamily": "POSTGRESQL",
                "RequireTLS": True,
                "RoleArn": {"Fn::GetAtt": [PROXY_ROLE, "Arn"]},
                "Auth": [
                    {
                        "AuthScheme": "SECRETS",
                        "IAMAuth": "REQUIRED",
                        "SecretArn": database.secret_arn,
                    }
                ],
                "VpcSubnetIds": placement["SubnetIds"],
                "VpcSecurityGroupIds": placement["SecurityGroupIds"],
                "Tags": tags(stage.project, stage.stage),
            },
        },
        owner,
    )
    targets: dict[str, Any] = {
        "DBProxyName": {"Ref": PROXY},
        "TargetGroupName": "default",
        "ConnectionPoolConfigurationInfo": {
            "MaxConnectionsPercent": database.max_connections_percent
        },
    }
    if database.instance is not None:
        targets["DBInstanceIdentifiers"] = [database.instance]
    else:
        targets["DBClusterIdentifiers"] = [database.cluster]
    resources.add(
        PROXY_TARGETS, {"Type": "AWS::RDS::DBProxyTargetGroup", "Properties": targets}, owner
    )


def _decrypt(database: DatabaseSettings) -> list[dict[str, Any]]:
    """`kms:Decrypt` on the secret's own key, through Secrets Manager only (none for AWS's)."""
    if database.kms_key_arn is None:
        return []
    return [
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [database.kms_key_arn],
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}
                }
            },
        }
    ]


def _add_domain(resources: Resources, domain: DomainSettings, project: str, stage: str) -> None:
    owner = f"the domain {domain.name} of stage {stage}"
    resources.add(
        DOMAIN,
        {
            "Type": "AWS::ApiGatewayV2::DomainName",
            "Properties": {
                "DomainName": domain.name,
                "DomainNameConfigurations": [
                    {
                        "CertificateArn": domain.certificate_arn,
                        "EndpointType": "REGIONAL",
                        "SecurityPolicy": "TLS_1_2",
                    }
                ],
                "Tags": stage_tags(project, stage),
            },
        },
        owner,
    )
    mapping: dict[str, Any] = {
        "ApiId": {"Ref": HTTP_API},
        "DomainName": {"Ref": DOMAIN},
        "Stage": {"Ref": HTTP_API_STAGE},
    }
    if domain.base_path is not None:
        mapping["ApiMappingKey"] = domain.base_path
    resources.add(
        DOMAIN_MAPPING, {"Type": "AWS::ApiGatewayV2::ApiMapping", "Properties": mapping}, owner
    )
    if domain.hosted_zone_id is None:
        return
    resources.add(
        DOMAIN_RECORD,
        {
            "Type": "AWS::Route53::RecordSet",
            "Properties": {
                "HostedZoneId": domain.hosted_zone_id,
                "Name": domain.name,
                "Type": "A",
                "AliasTarget": {
                    "DNSName": {"Fn::GetAtt": [DOMAIN, "RegionalDomainName"]},
                    "HostedZoneId": {"Fn::GetAtt": [DOMAIN, "RegionalHostedZoneId"]},
                },
            },
        },
        owner,
    )


def reached_services(function: Function) -> tuple[str, ...]:
    """The VPC endpoint services the function's code calls, from its permissions' actions.

    What its queue and stream triggers grant is left out: Lambda's event source mappings poll
    them with the function's role from Lambda's own network, not from the function's subnets.
    """
    polled = {
        (p.effect, p.actions, p.resources)
        for p in trigger_permissions(
            function.name, [t for t in function.triggers if isinstance(t, _POLLED)]
        )
    }
    found: set[str] = set()
    for permission in function.permissions:
        key = (permission.effect, permission.actions, permission.resources)
        if permission.effect != "Allow" or key in polled:
            continue
        for action in permission.actions:
            prefix = action.partition(":")[0]
            if prefix and prefix != "*" and prefix not in _NOT_THROUGH_THE_NETWORK:
                found.add(_ENDPOINT_OF.get(prefix, prefix))
    return tuple(sorted(found))


def network_warnings(application: Application, config: DeployConfig, stage: str) -> tuple[str, ...]:
    """A line per VPC function that calls an AWS API the stage's network cannot reach.

    Without a NAT, a function in private subnets reaches an AWS API only through a VPC
    endpoint; a missing one is not an error at deploy time, but a call that hangs until the
    function times out. Nothing to say for a stage without a network, or with a NAT.
    """
    settings = config.stage_settings(stage)
    network = settings.network
    if network is None or network.nat:
        return ()
    declared = set(network.endpoints)
    warnings = []
    for function in sorted(application.functions, key=lambda f: f.name):
        if not in_network(application, function, settings):
            continue
        missing = [s for s in reached_services(function) if s not in declared]
        if missing:
            endpoints = json.dumps(sorted(declared | set(missing)))
            warnings.append(
                f"function {function.name} runs in stage {stage}'s network and calls "
                f"{', '.join(missing)} (its permissions say so), but the stage declares neither "
                "a VPC endpoint for it nor a NAT: those calls would time out. Add "
                f"endpoints = {endpoints} (once the VPC has them) or "
                f"nat = true to [tool.lambdapress.deploy.stages.{stage}.network]"
            )
    return tuple(warnings)
