"""The subnets and security groups a stage names, checked in the account before any change.

Lambda refuses a `VpcConfig` whose subnet or security group does not exist, or whose subnets
are in two VPCs, or whose security groups are in another VPC than the subnets; RDS refuses a
proxy likewise. CloudFormation finds out half way through a deploy and rolls the stack back.
So `deploy` resolves the IDs as CloudFormation will (the list, the export's comma-joined
value, the SSM parameter's) and asks EC2 about them first, naming each problem and its fix.
An SSM parameter that does not exist is already reported by the references check
(`_references`), which runs before this one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdapress.config.network_settings import FromExport, IdSource, NetworkSettings
from lambdapress.errors import DeployError

if TYPE_CHECKING:
    from lambdapress.deploy.aws import Aws


def _resolved(aws: Aws, source: IdSource, what: str, table: str) -> list[str]:
    """The IDs `source` stands for, as CloudFormation will read them."""
    if isinstance(source, list):
        return list(source)
    if isinstance(source, FromExport):
        value = aws.export_value(source.export)
        if value is None:
            raise DeployError(
                f"the {what} of {table} come from the export {source.export}, which no stack "
                "in this account and region exports; nothing was changed",
                hint="deploy the stack that exports it first (or check its name: "
                "`aws cloudformation list-exports`), or name the IDs",
            )
        return [part.strip() for part in value.split(",") if part.strip()]
    value = aws.parameter_value(source.ssm)
    if value is None:  # SecureString, or deleted since the references check
        raise DeployError(
            f"the {what} of {table} come from the parameter {source.ssm}, which is not a "
            "readable String or StringList; nothing was changed",
            hint=f"aws ssm put-parameter --name {source.ssm} --type StringList "
            "--value 'ID1,ID2' --overwrite",
        )
    return [part.strip() for part in value.split(",") if part.strip()]


def check_network(aws: Aws, network: NetworkSettings, stage: str) -> None:
    """Every subnet and security group exists, the subnets in one VPC, the groups in it too."""
    table = f"[tool.lambdapress.deploy.stages.{stage}.network]"
    subnets = _resolved(aws, network.subnets, "subnets", table)
    groups = _resolved(aws, network.security_groups, "security groups", table)
    subnet_vpcs = aws.subnet_vpcs(subnets)
    group_vpcs = aws.security_group_vpcs(groups)
    problems = [f"subnet {s} does not exist" for s in subnets if s not in subnet_vpcs]
    problems += [f"security group {g} does not exist" for g in groups if g not in group_vpcs]
    vpcs = sorted(set(subnet_vpcs.values()))
    if len(vpcs) > 1:
        spread = ", ".join(f"{s} in {v}" for s, v in sorted(subnet_vpcs.items()))
        problems.append(f"the subnets are in {len(vpcs)} VPCs ({spread}); Lambda wants one")
    elif vpcs:
        problems += [
            f"security group {g} is in {v}, not in the subnets' VPC {vpcs[0]}"
            for g, v in sorted(group_vpcs.items())
            if v != vpcs[0]
        ]
    if problems:
        raise DeployError(
            f"the network of stage {stage} cannot hold its functions; nothing was changed:"
            + "".join(f"\n  {p}" for p in problems),
            hint=f"name subnets and security groups of one VPC of this account and region in "
            f"{table} (`aws ec2 describe-subnets`, `aws ec2 describe-security-groups`)",
        )
